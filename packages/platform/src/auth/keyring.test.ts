import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.ts';
import { createKeyring, type Keyring } from './keyring.ts';
import {
  generateSigningKeySet,
  loadSigningKeys,
  rotateSigningKeySet,
  signingKeysSecretName,
} from './signing-keys.ts';

type Line = { level: string; msg: string; [field: string]: unknown };

// The secret store as our own thin interface sees it: a value that can change or fail.
async function secretStore() {
  const store = { set: await generateSigningKeySet(), failing: false, reads: 0 };
  const load = () =>
    loadSigningKeys(async () => {
      store.reads++;
      if (store.failing) throw new Error('secret store unreachable');
      return { [signingKeysSecretName]: JSON.stringify(store.set) };
    });
  return { store, load };
}

function capturedLogger() {
  const lines: Line[] = [];
  const logger = createLogger({ service: 'test', write: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const keyrings: Keyring[] = [];
afterEach(() => {
  for (const keyring of keyrings.splice(0)) keyring.stop();
  vi.useRealTimers();
});

async function keyringOver(load: () => ReturnType<typeof loadSigningKeys>, refreshMs = 60_000) {
  const { logger, lines } = capturedLogger();
  const keyring = await createKeyring({ load, refreshMs, logger });
  keyrings.push(keyring);
  return { keyring, lines };
}

describe('createKeyring: loading', () => {
  it('serves the loaded current key and its public JWKS, next key included', async () => {
    const { store, load } = await secretStore();
    const { keyring } = await keyringOver(load);

    expect(keyring.current().kid).toBe(store.set.current.kid);
    expect(keyring.jwks().keys.map((key) => key.kid)).toEqual([
      store.set.current.kid,
      store.set.next?.kid,
    ]);
    expect(keyring.jwks().keys.every((key) => key.d === undefined)).toBe(true);
  });

  it('picks up a rotation on refresh and publishes current, next and previous keys', async () => {
    const { store, load } = await secretStore();
    const { keyring, lines } = await keyringOver(load);
    const before = store.set.current.kid;
    const publishedBefore = keyring.jwks().keys.map((key) => key.kid);

    store.set = await rotateSigningKeySet(store.set);
    await keyring.refresh();

    const { current, next } = store.set;
    expect(keyring.current().kid).toBe(current.kid);
    // The key that now signs was already in the JWKS served before the rotation.
    expect(publishedBefore).toContain(current.kid);
    expect(keyring.jwks().keys.map((key) => key.kid)).toEqual([current.kid, next?.kid, before]);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'signing key rotated', kid: current.kid, was: before }),
    );
  });

  it('keeps the last good keys when a reload fails, and logs it', async () => {
    const { store, load } = await secretStore();
    const { keyring, lines } = await keyringOver(load);
    const good = keyring.current();

    store.failing = true;
    await expect(keyring.refresh()).resolves.toBeUndefined();

    expect(keyring.current()).toBe(good);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'signing keys reload failed; keeping the last good keys',
        kid: good.kid,
      }),
    );
  });

  it('keeps the last good keys when the secret turns inconsistent, logging no key material', async () => {
    const { store, load } = await secretStore();
    const { keyring, lines } = await keyringOver(load);
    const good = keyring.current();
    const other = await generateSigningKeySet();

    store.set = { current: { ...other.current, x: store.set.current.x } };
    await keyring.refresh();

    expect(keyring.current()).toBe(good);
    expect(lines.at(-1)).toMatchObject({ level: 'error' });
    expect(JSON.stringify(lines)).toContain("has an x that is not d's");
    expect(JSON.stringify(lines)).not.toContain(other.current.d);
  });
});

describe('createKeyring: refreshing', () => {
  it('reloads every refreshMs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { store, load } = await secretStore();
    const { keyring } = await keyringOver(load, 10_000);
    expect(store.reads).toBe(1);

    store.set = await rotateSigningKeySet(store.set);
    await vi.advanceTimersByTimeAsync(10_000);

    expect(store.reads).toBe(2);
    expect(keyring.current().kid).toBe(store.set.current.kid);
  });

  it('shares one load between overlapping refreshes', async () => {
    const { store, load } = await secretStore();
    const { keyring } = await keyringOver(load);

    await Promise.all([keyring.refresh(), keyring.refresh(), keyring.refresh()]);

    expect(store.reads).toBe(2);
  });

  it('refuses to start without keys', async () => {
    const { store, load } = await secretStore();
    store.failing = true;

    await expect(keyringOver(load)).rejects.toThrow('secret store unreachable');
  });
});
