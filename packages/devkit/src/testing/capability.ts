/**
 * Tests that need something a machine may lack (podman, runc, root, a base image, a tool).
 * On a developer's machine such a test is skipped with the reason in its output; under CI
 * (`CI` set, as every CI service sets it) the same lack is a failure naming the reason, so
 * a CI run can never show a test green that did not run.
 */

/** Whether this run is under CI: `CI` set to anything but '', '0' or 'false'. */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** The error a missing capability is under CI. */
export class MissingCapabilityError extends Error {
  readonly missing: string;
  constructor(missing: string) {
    super(`this test cannot run on this machine, and CI is set: ${missing}`);
    this.missing = missing;
    this.name = 'MissingCapabilityError';
  }
}

/**
 * For `describe.skipIf(...)` and `it.skipIf(...)`: `missing` is why this machine cannot run
 * the test, or undefined when it can. Returns true (skip) when something is missing and
 * CI is not set, after printing the reason; under CI it throws, which fails the file at
 * collection with the reason; returns false when nothing is missing.
 *
 * @example describe.skipIf(unlessMissing(whyNoPodman()))('podman builds', () => { ... });
 */
export function unlessMissing(missing: string | undefined, env = process.env): boolean {
  if (missing === undefined) return false;
  if (inCI(env)) throw new MissingCapabilityError(missing);
  console.error(`skipped on this machine: ${missing}`);
  return true;
}

/**
 * The same inside a running test, for what only the test can find out (a pull that fails):
 * skips it through vitest's `context.skip` naming `missing`, or under CI throws.
 */
export function skipWhenMissing(
  context: { skip(note?: string): void },
  missing: string | undefined,
  env = process.env,
): void {
  if (missing === undefined) return;
  if (inCI(env)) throw new MissingCapabilityError(missing);
  console.error(`skipped on this machine: ${missing}`);
  context.skip(missing);
}
