import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findExecutables } from '../process/system.ts';
import { buildIntoCache, shopCachePath } from './cache.ts';

// No registry these machines reach serves Tilt (the Go module proxy refuses its modules),
// so it is built from a source archive kept beside the repository, checked against the
// digest its README gives.
export const tiltVersion = '0.37.6';
const sourceArchiveName = `tilt-${tiltVersion}-src.tar.gz`;
const sourceArchiveSha256 = '9e6004be8764d96bcb24f512c59285dd638c2bd6c6a002c29d4cf2197cc77bd7';
/** Relative to the repository root. */
export const tiltSourceDir = '../shared/tools/tilt';

function cachedTiltPath(): string {
  return shopCachePath('tilt', tiltVersion, 'tilt');
}

/** The version `tilt version` reports ("v0.37.6, built ..."), without the leading `v`. */
export function reportedTiltVersion(binary: string): string | undefined {
  const result = spawnSync(binary, ['version'], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) return undefined;
  return /^v?(\d+\.\d+\.\d+\S*?),/.exec(result.stdout.trim())?.[1];
}

/**
 * A Tilt of the pinned version: TILT_PATH as it is, else the build cache or PATH when they
 * hold that version, else built (once) from the source archive and cached.
 */
export function resolveTilt(repoRoot: string): string {
  const fromVariable = process.env.TILT_PATH;
  if (fromVariable) return fromVariable;
  const cached = cachedTiltPath();
  for (const candidate of [cached, ...findExecutables('tilt')]) {
    if (existsSync(candidate) && reportedTiltVersion(candidate) === tiltVersion) return candidate;
  }
  const archive = resolve(repoRoot, tiltSourceDir, sourceArchiveName);
  if (!existsSync(archive)) {
    throw new Error(
      `Tilt ${tiltVersion} is not built yet and its source ${join(tiltSourceDir, sourceArchiveName)} ` +
        `is missing (looked for ${archive}). Put the archive there, or install Tilt ${tiltVersion} ` +
        'and point TILT_PATH at it.',
    );
  }
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) {
    throw new Error(
      `Tilt ${tiltVersion} is not built yet and Go is not installed to build it from ${archive}. ` +
        `Install Go 1.26 or newer, or install Tilt ${tiltVersion} and point TILT_PATH at it.`,
    );
  }
  buildTilt(go, archive, cached);
  return cached;
}

function verifyDigest(archive: string): void {
  const digest = createHash('sha256').update(readFileSync(archive)).digest('hex');
  if (digest !== sourceArchiveSha256) {
    throw new Error(
      `${archive} has sha256 ${digest}, not the ${sourceArchiveSha256} of Tilt ${tiltVersion}'s source; ` +
        'refusing to build from it',
    );
  }
}

function buildTilt(go: string, archive: string, target: string): void {
  verifyDigest(archive);
  buildIntoCache({
    what: `tilt ${tiltVersion} from ${archive}`,
    target,
    complete: (binary) => reportedTiltVersion(binary) === tiltVersion,
    build(partial) {
      const workDir = mkdtempSync(join(tmpdir(), 'shop-tilt-src-'));
      try {
        const unpacked = spawnSync('tar', ['xzf', archive, '-C', workDir], { stdio: 'inherit' });
        if (unpacked.status !== 0) throw new Error(`unpacking ${archive} failed`);
        goBuildTilt(go, join(workDir, `tilt-${tiltVersion}`), partial);
      } finally {
        rmSync(workDir, { recursive: true, force: true });
      }
    },
  });
}

function goBuildTilt(go: string, sourceDir: string, output: string): void {
  // The archive leaves out the web UI; Tilt embeds this folder, and `tilt ci` serves the
  // page, so an empty one stands in.
  mkdirSync(join(sourceDir, 'pkg/assets/build'), { recursive: true });
  writeFileSync(join(sourceDir, 'pkg/assets/build/index.html'), '');
  spawnSync(
    go,
    [
      'build',
      // The archive carries upstream's vendor folder, so nothing is fetched.
      '-mod=vendor',
      // Pure-Go user lookups; the tree-sitter parsers below still need cgo.
      '-tags',
      'osusergo',
      '-ldflags',
      `-s -w -X main.version=${tiltVersion}`,
      '-o',
      output,
      './cmd/tilt',
    ],
    { cwd: sourceDir, stdio: 'inherit', env: { ...process.env, CGO_ENABLED: '1' } },
  );
}
