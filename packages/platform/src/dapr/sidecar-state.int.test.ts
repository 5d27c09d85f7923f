import type { ServerType } from '@hono/node-server';
import { freePorts } from '@shop/devkit/process';
import { stateStoreProfiles } from '@shop/devkit/shop';
import { silentLogger, startTestShop, type TestShop } from '@shop/devkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from './sidecar.ts';
import { serveBareApp } from './testdata/bare-app.ts';

// The state calls against a real daprd and each state store profile the shop offers
// (components/statestore/<profile>/): the ETag and first-write rules a read cache relies
// on (and that catalog's in-memory store mirrors) hold on every one of them.
const store = 'statestore';

describe.each(stateStoreProfiles)(
  'state through the sidecar, on the %s state store',
  (stateStore) => {
    let shop: TestShop;
    let server: ServerType;
    let sidecar: Sidecar;

    beforeAll(async () => {
      const [port] = (await freePorts(1)) as [number];
      const app = serveBareApp('probe', port);
      server = app.server;
      shop = await startTestShop({
        apps: [],
        sidecarsOnly: [{ appId: 'probe', appPort: port }],
        stateStore,
      });
      sidecar = app.sidecarIn(shop);
    });

    afterAll(async () => {
      await shop?.stop();
      server?.close();
    });

    it('reads nothing for an absent key, then what was saved, with an ETag', async () => {
      const key = `k-${crypto.randomUUID()}`;
      expect(await sidecar.getState(store, key)).toBeUndefined();
      expect(await sidecar.saveState(store, key, { n: 1 }, { ttlSeconds: 60 })).toBe('saved');
      const entry = await sidecar.getState(store, key);
      expect(entry).toEqual({ value: { n: 1 }, etag: expect.any(String) });
    });

    it('writes under an ETag only while it matches', async () => {
      const key = `k-${crypto.randomUUID()}`;
      await sidecar.saveState(store, key, 'one', { concurrency: 'first-write' });
      const first = await sidecar.getState(store, key);
      const options = { etag: first?.etag, concurrency: 'first-write' } as const;
      expect(await sidecar.saveState(store, key, 'two', options)).toBe('saved');
      expect(await sidecar.saveState(store, key, 'stale', options)).toBe('conflict');
      expect((await sidecar.getState(store, key))?.value).toBe('two');
    });

    it('creates a key first-write without an ETag only while it is absent', async () => {
      const key = `k-${crypto.randomUUID()}`;
      const create = (value: string) =>
        sidecar.saveState(store, key, value, { concurrency: 'first-write', ttlSeconds: 60 });
      expect(await create('first')).toBe('saved');
      await expect(create('second')).rejects.toThrow(/state save of .* failed: 500/);
      expect((await sidecar.getState(store, key))?.value).toBe('first');
    });

    it('deletes a key, at its ETag when one is given', async () => {
      const key = `k-${crypto.randomUUID()}`;
      await sidecar.saveState(store, key, 'x');
      expect(await sidecar.deleteState(store, key, { etag: '999' })).toBe('conflict');
      expect(await sidecar.deleteState(store, key)).toBe('deleted');
      expect(await sidecar.getState(store, key)).toBeUndefined();
    });

    it('fails within its timeout when the sidecar is not there', async () => {
      const gone = createSidecar({ DAPR_HOST: '127.0.0.1', DAPR_HTTP_PORT: 9 }, silentLogger());
      await expect(gone.getState(store, 'k', { timeoutMs: 200 })).rejects.toThrow();
    });
  },
);
