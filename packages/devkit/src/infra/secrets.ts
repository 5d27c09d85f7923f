import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateSigningKeySet, signingKeysSecretName } from '@shop/platform/auth';

/**
 * The local secret store's file (components/local/secretstore.yaml), created once per data
 * folder with a fresh signing key, so no key ever lives in the repository.
 */
export async function ensureLocalSecrets(dataDir: string): Promise<string> {
  const file = join(dataDir, 'secrets.json');
  if (!existsSync(file)) {
    const secrets = { [signingKeysSecretName]: JSON.stringify(await generateSigningKeySet()) };
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  }
  return file;
}

/** A random secret of `bytes` bytes, in characters any config file or command line takes as is. */
export const randomSecret = (bytes = 24): string => randomBytes(bytes).toString('base64url');

/**
 * The one-line secret kept in `file` (only its owner may read it), made by `make` the first
 * time: a data folder keeps its passwords from one start to the next.
 */
export function keptSecret(file: string, make: () => string = randomSecret): string {
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (kept) return kept;
  mkdirSync(dirname(file), { recursive: true });
  const secret = make();
  // Written aside and renamed, so a crash never leaves an empty file behind.
  writeFileSync(`${file}.${process.pid}`, `${secret}\n`, { mode: 0o600 });
  renameSync(`${file}.${process.pid}`, file);
  return secret;
}

/**
 * The password of the shop's private Redis (requirepass), kept in the data folder beside
 * the data it guards, so `redis-cli -a "$(cat <dataDir>/redis-password)"` reaches it.
 */
export function ensureRedisPassword(dataDir: string): string {
  return keptSecret(join(dataDir, 'redis-password'));
}
