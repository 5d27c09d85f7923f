import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Every executable of that name on PATH plus the given extra folders, in order. */
export function findExecutables(name: string, extraDirs: string[] = []): string[] {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  const found: string[] = [];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (!found.includes(candidate)) found.push(candidate);
    } catch {
      // not here
    }
  }
  return found;
}

let aptUpdated = false;

/**
 * Finds a program from a Debian package; installs the package when running as root,
 * otherwise stops with one line naming the package to install.
 */
export function ensureDebianProgram(
  program: string,
  debianPackage: string,
  extraDirs: string[] = [],
): string {
  const sbin = ['/usr/sbin', '/usr/bin', '/sbin', ...extraDirs];
  const existing = findExecutables(program, sbin)[0];
  if (existing) return existing;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    throw new Error(
      `${program} is missing: install Debian's package "${debianPackage}" (sudo apt-get install ${debianPackage})`,
    );
  }
  console.error(`shop: installing Debian package ${debianPackage} for ${program} ...`);
  // RUNLEVEL=1 keeps the package's init script from starting a system-wide daemon.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  if (!aptUpdated) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  const result = spawnSync(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', debianPackage],
    {
      stdio: 'inherit',
      env,
    },
  );
  const installed = findExecutables(program, sbin)[0];
  if (result.status !== 0 || !installed) {
    throw new Error(
      `installing Debian package "${debianPackage}" failed; install it by hand and retry`,
    );
  }
  return installed;
}
