import type { JSONWebKeySet } from 'jose';
import type { Logger } from '../logger.ts';
import type { SigningKey, SigningKeys } from './signing-keys.ts';

/** The signing keys a service holds in memory, reloaded so a rotation needs no restart. */
export type Keyring = {
  /** The key new tokens are signed with. */
  current(): SigningKey;
  /** The public keys to serve at `/.well-known/jwks.json`: current, next and previous. */
  jwks(): JSONWebKeySet;
  /** Reloads now; a failed reload keeps the last good keys and is logged, never thrown. */
  refresh(): Promise<void>;
  /** Stops the periodic reload. */
  stop(): void;
};

export type KeyringOptions = {
  load: () => Promise<SigningKeys>;
  /** How often the keys are reloaded; a rotation takes effect within this time. */
  refreshMs?: number;
  logger: Logger;
};

/**
 * Loads the signing keys once (rejecting if that fails, so a service never starts unable to
 * sign) and then reloads them every `refreshMs`.
 *
 * @example
 * const keyring = await createKeyring({
 *   load: () => loadSigningKeys(() => sidecar.getSecret('secretstore', signingKeysSecretName)),
 *   refreshMs: 60_000,
 *   logger,
 * });
 * app.get(jwksPath, (c) => c.json(keyring.jwks()));
 */
export async function createKeyring(options: KeyringOptions): Promise<Keyring> {
  const { load, refreshMs = 60_000, logger } = options;
  let keys = await load();
  let reloading: Promise<void> | undefined;

  const refresh = () => {
    // Overlapping calls (the timer and a manual refresh) share one load.
    reloading ??= (async () => {
      try {
        const next = await load();
        if (next.current.kid !== keys.current.kid) {
          logger.info('signing key rotated', { kid: next.current.kid, was: keys.current.kid });
        }
        keys = next;
      } catch (error) {
        logger.error('signing keys reload failed; keeping the last good keys', {
          error,
          kid: keys.current.kid,
        });
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  };

  // unref: the reload must never be what keeps a shutting-down process alive.
  const timer = setInterval(refresh, refreshMs).unref();

  return {
    current: () => keys.current,
    jwks: () => keys.jwks,
    refresh,
    stop: () => clearInterval(timer),
  };
}
