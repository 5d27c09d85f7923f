import { randomUUID } from 'node:crypto';
import { silentLogger, useTestMongo } from '@shop/devkit/testing';
import { AppError } from '@shop/platform';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsOf, ensureIndexes } from '../database.ts';
import { recordSignOut, type StreamLeaseStore, streamLeaseStore } from './leases.ts';
import { createStreamLimits, type StreamAdmission, type StreamLimits } from './limits.ts';

// Replicas are limit objects over one real database (FerretDB), each with its own clock.
const mongo = useTestMongo();
let client: MongoClient;
let store: StreamLeaseStore;

beforeAll(async () => {
  client = new MongoClient(mongo().freshDatabaseUrl());
  const db = collectionsOf(client.db());
  await ensureIndexes(db);
  store = streamLeaseStore(db);
});
afterAll(() => client?.close());

const leaseTtlMs = 30_000;

function replica(options: { clock?: () => Date; maxPerReplica?: number } = {}): StreamLimits {
  return createStreamLimits({
    store,
    logger: silentLogger('notifications'),
    replicaId: randomUUID(),
    maxPerUser: 5,
    maxPerReplica: options.maxPerReplica ?? 1_000,
    leaseTtlMs,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** The error `admit` refused with, or undefined when it admitted. */
async function refusal(limits: StreamLimits, userId: string, sessionId?: string) {
  try {
    await limits.admit({ userId, sessionId });
    return undefined;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
}

const user = () => `u-${randomUUID()}`;

/** Whether the admission's stream may stay open, as far as its replica knows now. */
const stillOpen = async (admission: StreamAdmission | undefined) =>
  (await Promise.race([admission?.ended, Promise.resolve('open')])) === 'open';

describe('stream limits', () => {
  admissionCases();
  expiryAndCeilingCases();
  signOutAndOutageCases();
});

function admissionCases() {
  it('admits five streams of a user across replicas and refuses the sixth with 429 and Retry-After', async () => {
    const userId = user();
    const [a, b] = [replica(), replica()];
    for (const limits of [a, b, a, b, a]) await limits.admit({ userId });
    for (const limits of [a, b]) {
      const refused = await refusal(limits, userId);
      expect(refused).toMatchObject({ code: 'rate_limited', headers: { 'retry-after': '30' } });
    }
    // Another user is not affected.
    await a.admit({ userId: user() });
    expect(a.open() + b.open()).toBe(6);
  });

  it('lets no two of twenty concurrent opens share a slot', async () => {
    const userId = user();
    const replicas = [replica(), replica(), replica()];
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => refusal(replicas[i % 3] as StreamLimits, userId)),
    );
    expect(outcomes.filter((refused) => refused === undefined)).toHaveLength(5);
    expect(await store.leases.countDocuments({ userId })).toBe(5);
  });

  it('frees a slot when its stream is released', async () => {
    const userId = user();
    const limits = replica();
    const admissions: StreamAdmission[] = [];
    for (let i = 0; i < 5; i++) admissions.push(await limits.admit({ userId }));
    expect(await refusal(limits, userId)).toBeDefined();
    await admissions[2]?.release();
    // Releasing twice frees nothing more.
    await admissions[2]?.release();
    await limits.admit({ userId });
    expect(await refusal(limits, userId)).toBeDefined();
  });
}

function expiryAndCeilingCases() {
  it('frees the slots of a replica that stopped renewing once their leases expire, and ends its streams', async () => {
    const userId = user();
    let now = Date.now();
    const clock = () => new Date(now);
    const [stalled, alive] = [replica({ clock }), replica({ clock })];
    const stalledOnes: StreamAdmission[] = [];
    for (let i = 0; i < 3; i++) stalledOnes.push(await stalled.admit({ userId }));
    const kept = [await alive.admit({ userId }), await alive.admit({ userId })];
    expect(await refusal(alive, userId)).toBeDefined();
    now += leaseTtlMs / 2;
    await alive.renew();
    now += leaseTtlMs / 2 + 1;
    // The stalled replica's three have expired; the renewed two have not.
    for (let i = 0; i < 3; i++) await alive.admit({ userId });
    expect(await refusal(alive, userId)).toBeDefined();
    // Back, the stalled replica finds its leases taken over: its streams end.
    await stalled.renew();
    for (const admission of stalledOnes) expect(await admission.ended).toBe('lease_lost');
    for (const admission of kept) expect(await stillOpen(admission)).toBe(true);
    expect(await store.leases.countDocuments({ userId })).toBe(5);
  });

  it('refuses beyond the replica ceiling, counting opens under way', async () => {
    const limits = replica({ maxPerReplica: 3 });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => refusal(limits, user())));
    expect(outcomes.filter((refused) => refused === undefined)).toHaveLength(3);
    expect(outcomes.find((refused) => refused !== undefined)).toMatchObject({
      code: 'rate_limited',
      headers: { 'retry-after': '30' },
    });
    expect(limits.open()).toBe(3);
  });
}

function signOutAndOutageCases() {
  it('ends on every replica the streams of a signed-out session and those without a session', async () => {
    const userId = user();
    const [a, b] = [replica(), replica()];
    const ofSession = [
      await a.admit({ userId, sessionId: 's1' }),
      await b.admit({ userId, sessionId: 's1' }),
    ];
    const sessionless = await b.admit({ userId });
    const otherSession = await a.admit({ userId, sessionId: 's2' });
    const otherUser = await a.admit({ userId: user(), sessionId: 's1' });
    // The event reaches one replica; the store carries it to the others.
    expect(await recordSignOut(store, { userId, sessionId: 's1' }, new Date())).toBe(3);
    await Promise.all([a.renew(), b.renew()]);
    for (const admission of [...ofSession, sessionless]) {
      expect(await admission.ended).toBe('signed_out');
    }
    expect(await stillOpen(otherSession)).toBe(true);
    expect(await stillOpen(otherUser)).toBe(true);
    // Twice, as a redelivery: nothing more is marked, and nothing fails.
    expect(await recordSignOut(store, { userId, sessionId: 's1' }, new Date())).toBe(0);
  });

  it('refuses a stream for a token of a session already signed out', async () => {
    const userId = user();
    await recordSignOut(store, { userId, sessionId: 's-gone' }, new Date());
    const limits = replica();
    expect(await refusal(limits, userId, 's-gone')).toMatchObject({ code: 'unauthenticated' });
    expect(await store.leases.countDocuments({ userId })).toBe(0);
    expect(await refusal(limits, userId, 's-new')).toBeUndefined();
  });

  it('answers 503 with Retry-After when the store is down, and holds nothing', async () => {
    const closed = new MongoClient(mongo().freshDatabaseUrl());
    await closed.connect();
    await closed.close();
    const limits = createStreamLimits({
      store: streamLeaseStore(collectionsOf(closed.db())),
      logger: silentLogger('notifications'),
      replicaId: randomUUID(),
      maxPerUser: 5,
      maxPerReplica: 1_000,
      leaseTtlMs,
    });
    expect(await refusal(limits, user())).toMatchObject({
      code: 'upstream_unavailable',
      headers: { 'retry-after': '30' },
    });
    expect(limits.open()).toBe(0);
  });
}
