import { existsSync } from 'node:fs';
import { ensureDebianProgram, findExecutables } from '../process/system.ts';

/** Debian's package for both the Prometheus server and promtool (its rule checker). */
export const prometheusDebianPackage = 'prometheus';

const systemDirs = ['/usr/bin', '/usr/sbin'];

/**
 * promtool's path: the one on PATH, or, when running as root, the one Debian's `prometheus`
 * package installs; otherwise it throws naming the package to install.
 */
export function ensurePromtool(): string {
  return ensureDebianProgram('promtool', prometheusDebianPackage, systemDirs);
}

/**
 * Why promtool cannot be had on this machine (for `unlessMissing`), or undefined when it
 * is installed or this user can install it (root with apt-get); it installs nothing.
 */
export function whyNoPromtool(): string | undefined {
  if (findExecutables('promtool', systemDirs).length > 0) return undefined;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) return undefined;
  return `promtool is missing and this user cannot install it: install Debian's package "${prometheusDebianPackage}"`;
}
