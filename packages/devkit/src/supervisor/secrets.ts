import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
