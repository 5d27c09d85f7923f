import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildIntoCache } from './cache.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shop-cache-test-'));
  dirs.push(dir);
  return dir;
}

const says = (word: string) => (path: string) =>
  existsSync(path) && readFileSync(path, 'utf8') === word;

describe('buildIntoCache', () => {
  vi.spyOn(console, 'error').mockImplementation(() => {});

  it('builds beside the target and renames the result into place', () => {
    const target = join(scratch(), 'tool', '1.0', 'tool');
    const built = buildIntoCache({
      what: 'tool 1.0',
      target,
      complete: says('ok'),
      build: (partial) => {
        expect(partial).toBe(`${target}.${process.pid}.partial`);
        writeFileSync(partial, 'ok');
      },
    });
    expect(built).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('ok');
    expect(readdirSync(join(target, '..'))).toEqual(['tool']);
  });

  it('leaves nothing behind when the result is not complete', () => {
    const target = join(scratch(), 'tool');
    const build = () =>
      buildIntoCache({
        what: 'tool 1.0',
        target,
        complete: says('ok'),
        build: (partial) => writeFileSync(partial, 'half'),
      });
    expect(build).toThrow('building tool 1.0 failed');
    expect(readdirSync(join(target, '..'))).toEqual([]);
  });

  it('keeps what a concurrent run put there first', () => {
    const target = join(scratch(), 'libs');
    buildIntoCache({
      what: 'libs',
      target,
      complete: (path) => existsSync(join(path, 'done')),
      build: (partial) => {
        // The other run's complete folder appears while this one builds.
        mkdirSync(join(target, 'theirs'), { recursive: true });
        writeFileSync(join(target, 'done'), '');
        mkdirSync(join(partial, 'ours'), { recursive: true });
        writeFileSync(join(partial, 'done'), '');
      },
    });
    expect(readdirSync(target).sort()).toEqual(['done', 'theirs']);
  });
});
