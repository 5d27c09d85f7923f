import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding dapr.yaml, found upwards from this file. */
export function findRepoRoot(from = import.meta.dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'dapr.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`dapr.yaml not found above ${from}`);
    dir = parent;
  }
  return dir;
}
