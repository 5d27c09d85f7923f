// Finds or builds the pinned helm, the same way the supervisor does daprd: these machines
// have no helm and no internet, only the Go module proxy. Run directly it is helm itself:
//   node scripts/helm.ts lint charts/shop
//   node scripts/helm.ts install shop charts/shop
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findExecutables, findRepoRoot } from '@shop/platform/supervisor';

const helmModule = 'helm.sh/helm/v4';

/** The pinned helm release, read from the wrapper module so there is one place to change it. */
export function pinnedHelmVersion(repoRoot: string): string {
  const goMod = readFileSync(join(repoRoot, 'tools/helm/go.mod'), 'utf8');
  const match = /^\s*(?:require\s+)?helm\.sh\/helm\/v4 v(\S+)/m.exec(goMod);
  if (!match?.[1]) throw new Error(`tools/helm/go.mod does not pin ${helmModule}`);
  return match[1];
}

export function helmCachePath(version: string): string {
  const cacheRoot = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cacheRoot, 'shop', 'helm', version, 'helm');
}

function versionOf(binary: string): string | undefined {
  const result = spawnSync(binary, ['version', '--template', '{{.Version}}'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return result.status === 0 ? result.stdout.trim().replace(/^v/, '') : undefined;
}

/**
 * Finds a helm of the pinned version: `HELM_PATH`, the build cache, then PATH. Without one
 * it builds it from the pinned Go module (once; the result is cached outside the
 * repository, keyed by version).
 */
export function resolveHelm(repoRoot: string): string {
  const version = pinnedHelmVersion(repoRoot);
  if (process.env.HELM_PATH) return process.env.HELM_PATH;
  const cached = helmCachePath(version);
  for (const candidate of [cached, ...findExecutables('helm')]) {
    if (existsSync(candidate) && versionOf(candidate) === version) return candidate;
  }
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) {
    throw new Error(
      `helm ${version} was not found and Go is not installed to build it. Install Go 1.26 or ` +
        `newer, or install helm ${version} and put it on PATH (or point HELM_PATH at it).`,
    );
  }
  buildHelm(go, repoRoot, version, cached);
  return cached;
}

function buildHelm(go: string, repoRoot: string, version: string, target: string): void {
  console.error(`shop: building helm ${version} from source; this happens once ...`);
  const started = performance.now();
  mkdirSync(join(target, '..'), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  const versionPackage = `${helmModule}/internal/version`;
  const result = spawnSync(
    go,
    [
      'build',
      '-trimpath',
      '-ldflags',
      // Without these, `helm version` would report only the major.minor baked into the source.
      `-s -w -X ${versionPackage}.version=v${version} -X ${versionPackage}.gitTreeState=clean`,
      '-o',
      partial,
      `${helmModule}/cmd/helm`,
    ],
    // Helm's own release builds are static; CGO adds nothing it uses.
    {
      cwd: join(repoRoot, 'tools/helm'),
      stdio: 'inherit',
      env: { ...process.env, CGO_ENABLED: '0' },
    },
  );
  if (result.status !== 0 || versionOf(partial) !== version) {
    rmSync(partial, { force: true });
    throw new Error(`building helm ${version} failed (see the go output above)`);
  }
  // A rename is atomic, so a concurrent run never sees a half-written binary.
  renameSync(partial, target);
  const seconds = Math.round((performance.now() - started) / 1000);
  console.error(`shop: helm ${version} built in ${seconds} s, cached at ${target}`);
}

if (import.meta.main) {
  const helm = resolveHelm(findRepoRoot(import.meta.dirname));
  const result = spawnSync(helm, process.argv.slice(2), { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
