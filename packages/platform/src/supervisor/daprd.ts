import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findExecutables } from './system.ts';

/** The pinned Dapr release, read from the wrapper module so there is one place to change it. */
export function pinnedDaprVersion(repoRoot: string): string {
  const goMod = readFileSync(join(repoRoot, 'tools/daprd/go.mod'), 'utf8');
  const match = /^\s*(?:require\s+)?github\.com\/dapr\/dapr v(\S+)/m.exec(goMod);
  if (!match?.[1]) throw new Error('tools/daprd/go.mod does not pin github.com/dapr/dapr');
  return match[1];
}

export function daprdCachePath(version: string): string {
  const cacheRoot = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cacheRoot, 'shop', 'daprd', version, 'daprd');
}

function versionOf(binary: string): string | undefined {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim().replace(/^v/, '') : undefined;
}

/**
 * Finds a daprd of the pinned version: `DAPRD_PATH`, the build cache, the Dapr CLI's
 * `~/.dapr/bin`, then PATH. Without one it builds it from the pinned Go module (once; the
 * result is cached outside the repository, keyed by version).
 */
export function resolveDaprd(repoRoot: string): string {
  const version = pinnedDaprVersion(repoRoot);
  if (process.env.DAPRD_PATH) return process.env.DAPRD_PATH;
  const cached = daprdCachePath(version);
  const candidates = [
    cached,
    join(homedir(), '.dapr', 'bin', 'daprd'),
    ...findExecutables('daprd'),
  ];
  for (const candidate of candidates) {
    if (existsSync(candidate) && versionOf(candidate) === version) return candidate;
  }
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) {
    throw new Error(
      `daprd ${version} was not found and Go is not installed to build it. Either install Go 1.26 or newer ` +
        `and run \`npm run setup\` again, or install the Dapr CLI and run \`dapr init --slim --runtime-version ${version}\`.`,
    );
  }
  buildDaprd(go, repoRoot, version, cached);
  return cached;
}

function buildDaprd(go: string, repoRoot: string, version: string, target: string): void {
  console.error(
    `shop: building daprd ${version} from source; this happens once and takes several minutes ...`,
  );
  mkdirSync(join(target, '..'), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  const buildinfo = 'github.com/dapr/dapr/pkg/buildinfo';
  const result = spawnSync(
    go,
    [
      'build',
      '-tags',
      'allcomponents',
      '-trimpath',
      '-ldflags',
      `-s -w -X ${buildinfo}.version=${version} -X ${buildinfo}.gitversion=v${version}`,
      '-o',
      partial,
      'github.com/dapr/dapr/cmd/daprd',
    ],
    { cwd: join(repoRoot, 'tools/daprd'), stdio: 'inherit' },
  );
  if (result.status !== 0 || versionOf(partial) !== version) {
    rmSync(partial, { force: true });
    throw new Error(`building daprd ${version} failed (see the go output above)`);
  }
  // A rename is atomic, so a concurrent run never sees a half-written binary.
  renameSync(partial, target);
  console.error(`shop: daprd ${version} cached at ${target}`);
}
