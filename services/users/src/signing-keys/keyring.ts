import type { Logger, Sidecar } from '@shop/platform';
import {
  createKeyring,
  type Keyring,
  loadSigningKeys,
  signingKeysSecretName,
} from '@shop/platform/auth';
import type { UsersConfig } from '../config.ts';

/**
 * The signing keys from the Dapr secret store, reloaded so a rotation needs no restart.
 * Waits for the sidecar first: the store answers only through it, and this service
 * cannot sign without the keys.
 */
export async function signingKeyringViaDapr(deps: {
  config: Pick<UsersConfig, 'SECRET_STORE_NAME' | 'SIGNING_KEYS_REFRESH_MS'>;
  sidecar: Pick<Sidecar, 'waitUntilReady' | 'getSecret'>;
  logger: Logger;
}): Promise<Keyring> {
  const { config, sidecar, logger } = deps;
  await sidecar.waitUntilReady();
  return createKeyring({
    load: () =>
      loadSigningKeys(() => sidecar.getSecret(config.SECRET_STORE_NAME, signingKeysSecretName)),
    refreshMs: config.SIGNING_KEYS_REFRESH_MS,
    logger,
  });
}
