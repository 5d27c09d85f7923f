import { Hono } from 'hono';
import type { JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Sidecar } from '../dapr/sidecar.ts';
import { jwksPath, jwksViaDapr } from './jwks-via-dapr.ts';
import { generateSigningKeySet, loadSigningKeys, signingKeysSecretName } from './signing-keys.ts';

type Call = { appId: string; path: string; init: RequestInit };

// Stands in for the sidecar: routes the invocation to a real Hono app playing the users
// service, and records what was asked.
function sidecarTo(app: Hono) {
  const calls: Call[] = [];
  const invoke: Sidecar['invoke'] = async (appId, path, init) => {
    calls.push({ appId, path, init });
    return app.request(path, init);
  };
  return { invoke, calls };
}

async function usersServing(body: (jwks: JSONWebKeySet) => unknown = (jwks) => jwks, status = 200) {
  const set = await generateSigningKeySet();
  const keys = await loadSigningKeys(async () => ({
    [signingKeysSecretName]: JSON.stringify(set),
  }));
  const app = new Hono();
  app.get(
    jwksPath,
    () =>
      new Response(JSON.stringify(body(keys.jwks)), {
        status,
        headers: { 'content-type': 'application/json' },
      }),
  );
  return { app, keys };
}

describe('jwksViaDapr', () => {
  it("fetches the users app's JWKS with a timeout", async () => {
    const { app, keys } = await usersServing();
    const { invoke, calls } = sidecarTo(app);

    await expect(jwksViaDapr(invoke)()).resolves.toEqual(keys.jwks);

    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ appId: 'users', path: '/.well-known/jwks.json' });
    expect(calls[0]?.init.method).toBe('GET');
    expect(calls[0]?.init.signal).toBeInstanceOf(AbortSignal);
  });

  it('asks the app id it is given', async () => {
    const { app } = await usersServing();
    const { invoke, calls } = sidecarTo(app);

    await jwksViaDapr(invoke, 'identity')();

    expect(calls[0]?.appId).toBe('identity');
  });

  it('throws on an answer that is not 2xx', async () => {
    const { app } = await usersServing(() => ({ title: 'down' }), 500);
    const { invoke } = sidecarTo(app);

    await expect(jwksViaDapr(invoke)()).rejects.toThrow(
      'users answered 500 for /.well-known/jwks.json',
    );
  });

  it('throws on a body that is not a key set', async () => {
    const { app } = await usersServing(() => ({ keys: 'none' }));
    const { invoke } = sidecarTo(app);

    await expect(jwksViaDapr(invoke)()).rejects.toThrow('no valid key set');
  });

  it('passes on only the members of a public key', async () => {
    const { app, keys } = await usersServing((jwks) => ({
      keys: jwks.keys.map((key) => ({ ...key, d: 'leaked', extra: 1 })),
    }));
    const { invoke } = sidecarTo(app);

    await expect(jwksViaDapr(invoke)()).resolves.toEqual(keys.jwks);
  });
});
