import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';

// OWASP's first argon2id option: 19 MiB of memory, 2 passes, 1 lane (~35 ms here).
const params = { memory: 19_456, passes: 2, parallelism: 1 };
const tagLength = 32;

function derive(password: string, salt: Buffer, p: typeof params): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    argon2('argon2id', { message: password, nonce: salt, tagLength, ...p }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** Hashes into the PHC string format, so parameters can be raised later without a migration. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  const encode = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$argon2id$v=19$m=${params.memory},t=${params.passes},p=${params.parallelism}$${encode(salt)}$${encode(key)}`;
}

/** What one verification cost: the argon2id parameters and sizes it derived with. */
export type VerificationCost = {
  memory: number;
  passes: number;
  parallelism: number;
  saltLength: number;
  hashLength: number;
};

/**
 * Publishes each verification's VerificationCost, so a test can check that a login for an
 * unknown email pays exactly what a wrong password pays, without timing anything. Free
 * while nobody subscribes.
 */
export const verificationCosts = channel('shop:users:password-verification');

const phc = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const match = phc.exec(encoded);
  if (!match) return false;
  const [, memory, passes, parallelism, salt, key] = match;
  const expected = Buffer.from(key as string, 'base64');
  const saltBytes = Buffer.from(salt as string, 'base64');
  const cost = { memory: Number(memory), passes: Number(passes), parallelism: Number(parallelism) };
  const actual = await derive(password, saltBytes, cost);
  if (verificationCosts.hasSubscribers) {
    verificationCosts.publish({
      ...cost,
      saltLength: saltBytes.length,
      hashLength: actual.length,
    } satisfies VerificationCost);
  }
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A valid hash of nothing anyone knows: verifying against it costs the same as a real
 * check, so an unknown email takes as long to refuse as a wrong password.
 */
export const decoyHash = await hashPassword(randomBytes(32).toString('base64'));
