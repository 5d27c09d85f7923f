import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutables } from '../process/system.ts';
import { atLowPriority, buildIntoCache, shopCachePath } from './cache.ts';

/**
 * A program these machines cannot download but can build: its Go module is pinned by a
 * wrapper module under tools/, built once with `go build` and cached outside the
 * repository, keyed by version.
 */
export type GoTool = {
  name: string;
  /** The wrapper module's folder, relative to the repository root. */
  wrapperDir: string;
  /** The pinned module, as it appears in the wrapper's go.mod. */
  module: string;
  /** The main package to build. */
  mainPackage: string;
  buildTags?: string[];
  /** Version stamps, so the binary reports the release it was built from. */
  ldflags(version: string): string;
  buildEnv?: Record<string, string>;
  /**
   * Files the pinned module lacks but its build needs (paths relative to the module root).
   * When given, the main package is built inside a writable copy of the module with these
   * written in, by the module's own go.mod, instead of from the wrapper module.
   */
  generatedFiles?(version: string): Record<string, string>;
  /** Arguments that make the binary print its version (a leading `v` is ignored). */
  versionArgs: string[];
  /** The version in what `versionArgs` printed, for a binary that prints more than the version. */
  versionFrom?(output: string): string | undefined;
  /** A variable naming a binary to use as it is. */
  pathVariable: string;
  /** Places to look before PATH, e.g. where an official installer puts it. */
  knownLocations?: string[];
  /** What to tell someone who has neither Go nor a matching binary, if not the usual. */
  installHint?(version: string): string;
};

function usualInstallHint(tool: GoTool, version: string): string {
  return (
    `${tool.name} ${version} was not found and Go is not installed to build it. Install Go ` +
    `1.26 or newer, or put ${tool.name} ${version} on PATH (or point ${tool.pathVariable} at it).`
  );
}

function pinnedVersion(repoRoot: string, tool: GoTool): string {
  const goMod = readFileSync(join(repoRoot, tool.wrapperDir, 'go.mod'), 'utf8');
  const escaped = tool.module.replaceAll('.', '\\.').replaceAll('/', '\\/');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped} v(\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`${tool.wrapperDir}/go.mod does not pin ${tool.module}`);
  return match[1];
}

function cachedBinaryPath(tool: GoTool, version: string): string {
  return shopCachePath(tool.name, version, tool.name);
}

function versionOf(tool: GoTool, binary: string): string | undefined {
  const result = spawnSync(binary, tool.versionArgs, { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) return undefined;
  const output = result.stdout.trim();
  return (tool.versionFrom ? tool.versionFrom(output) : output)?.replace(/^v/, '');
}

/**
 * Finds the tool at its pinned version: the path variable, the build cache, the known
 * locations, then PATH; failing that, builds it (once) and returns the cached binary.
 */
export function resolveGoTool(repoRoot: string, tool: GoTool): string {
  const fromVariable = process.env[tool.pathVariable];
  if (fromVariable) return fromVariable;
  const version = pinnedVersion(repoRoot, tool);
  const cached = cachedBinaryPath(tool, version);
  const candidates = [cached, ...(tool.knownLocations ?? []), ...findExecutables(tool.name)];
  for (const candidate of candidates) {
    if (existsSync(candidate) && versionOf(tool, candidate) === version) return candidate;
  }
  const go = findExecutables('go', ['/usr/local/go/bin'])[0];
  if (!go) throw new Error(tool.installHint?.(version) ?? usualInstallHint(tool, version));
  build(go, repoRoot, tool, version, cached);
  return cached;
}

function build(go: string, repoRoot: string, tool: GoTool, version: string, target: string): void {
  const wrapperDir = join(repoRoot, tool.wrapperDir);
  const env = { ...process.env, ...tool.buildEnv };
  const tags = tool.buildTags?.length ? ['-tags', tool.buildTags.join(',')] : [];
  buildIntoCache({
    what: `${tool.name} ${version} from source`,
    target,
    complete: (binary) => versionOf(tool, binary) === version,
    build(partial) {
      const source = tool.generatedFiles
        ? moduleCopyWith(go, wrapperDir, tool, version, env)
        : { dir: wrapperDir, mainPackage: tool.mainPackage, remove() {} };
      try {
        const args = ['build', ...tags, '-trimpath', '-ldflags', tool.ldflags(version)];
        const [command, line] = atLowPriority(go, [...args, '-o', partial, source.mainPackage]);
        spawnSync(command, line, { cwd: source.dir, stdio: 'inherit', env });
      } finally {
        source.remove();
      }
    },
  });
}

/**
 * A writable copy of the pinned module (as the wrapper's go.sum verified it) with the
 * tool's generated files written in; the module cache itself is read-only, and `go build
 * -overlay` refuses to replace files beneath it.
 */
function moduleCopyWith(
  go: string,
  wrapperDir: string,
  tool: GoTool,
  version: string,
  env: NodeJS.ProcessEnv,
): { dir: string; mainPackage: string; remove(): void } {
  const download = spawnSync(go, ['mod', 'download', '-json', tool.module], {
    cwd: wrapperDir,
    encoding: 'utf8',
    env,
  });
  const moduleDir = download.status === 0 ? (JSON.parse(download.stdout).Dir as string) : '';
  if (!moduleDir) throw new Error(`go mod download ${tool.module} failed: ${download.stderr}`);
  const copyRoot = mkdtempSync(join(tmpdir(), `shop-${tool.name}-src-`));
  const dir = join(copyRoot, 'module');
  cpSync(moduleDir, dir, { recursive: true });
  // Files in the module cache are read-only, and the copy keeps their modes.
  spawnSync('chmod', ['-R', 'u+w', dir]);
  for (const [path, content] of Object.entries(tool.generatedFiles?.(version) ?? {})) {
    writeFileSync(join(dir, path), content);
  }
  const relative = tool.mainPackage.slice(tool.module.length);
  return {
    dir,
    mainPackage: `.${relative || '/'}`,
    remove: () => rmSync(copyRoot, { recursive: true, force: true }),
  };
}
