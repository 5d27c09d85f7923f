import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findExecutables } from '../process/system.ts';

/** `~/.cache/shop/<parts>` (or under XDG_CACHE_HOME): where pinned tools are kept, by version. */
export function shopCachePath(...parts: string[]): string {
  const cacheRoot = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cacheRoot, 'shop', ...parts);
}

export interface CachedBuild {
  /** What is built, e.g. `helm 4.3.1`, for the progress lines. */
  what: string;
  /** The path in the cache (a file or a folder) that appears only when complete. */
  target: string;
  /** Writes the result to `partial` (a path beside the target), throwing on failure. */
  build(partial: string): void;
  /** Whether a path holds a good result: checked on the partial one and on a raced target. */
  complete(path: string): boolean;
  /** The verb of the progress lines; `building` unless given. */
  verb?: string;
}

/**
 * Builds once into a partial path beside the target, then renames it into place. The rename
 * is atomic, so a concurrent run sees either nothing or a complete result; when another run
 * got there first with a good one, that one is kept.
 */
export function buildIntoCache(build: CachedBuild): string {
  const { what, target, verb = 'building' } = build;
  console.error(`shop: ${verb} ${what}; this happens once and takes minutes ...`);
  const started = performance.now();
  mkdirSync(join(target, '..'), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  try {
    build.build(partial);
    if (!build.complete(partial)) throw new Error(`${verb} ${what} failed (see the output above)`);
    renameSync(partial, target);
  } catch (error) {
    if (!build.complete(target)) throw error;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  console.error(`shop: ${what} done in ${seconds} s, cached at ${target}`);
  return target;
}

/**
 * The command line that runs `program` at the lowest priority when `nice` exists: a build
 * takes both cores for minutes, and so only takes what tests or a running shop leave idle.
 */
export function atLowPriority(program: string, args: string[]): [string, string[]] {
  const nice = findExecutables('nice')[0];
  return nice ? [nice, ['-n', '19', program, ...args]] : [program, args];
}
