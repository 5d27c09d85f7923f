import { randomUUID } from 'node:crypto';
import { useTestMongo } from '@shop/devkit/testing';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsOf, ensureIndexes, type NotificationsDb } from '../database.ts';
import { insertNotifications, type NotificationDraft } from './repository.ts';

const mongo = useTestMongo();
let client: MongoClient;

beforeAll(async () => {
  client = new MongoClient(mongo().freshDatabaseUrl());
});
afterAll(() => client?.close());

/** A database of its own for one case (the legacy counter is one per database). */
async function freshDatabase(): Promise<Db> {
  const database = client.db(`repo_${randomUUID().replaceAll('-', '')}`);
  await ensureIndexes(collectionsOf(database));
  return database;
}

/** A replica's view of the database: its own insert queue, the same collections. */
async function replicas(count: number): Promise<NotificationsDb[]> {
  const database = await freshDatabase();
  return Array.from({ length: count }, () => collectionsOf(database));
}

async function replica(): Promise<NotificationsDb> {
  const [db] = await replicas(1);
  if (!db) throw new Error('no replica');
  return db;
}

function draft(userId: string, sourceKey = `${randomUUID()}:${userId}`): NotificationDraft {
  return { userId, type: 'welcome', title: 'Hi', body: 'hello', data: {}, sourceKey };
}

async function seqsOf(db: NotificationsDb, userId: string): Promise<number[]> {
  const docs = await db.notifications.find({ userId }).sort({ seq: 1 }).toArray();
  return docs.map((doc) => doc.seq);
}

describe('per-user seqs', () => {
  it('gives each user their own sequence from 1, with no gap', async () => {
    const db = await replica();
    const [ann, bob] = [`u-${randomUUID()}`, `u-${randomUUID()}`];
    await insertNotifications(db, [draft(ann), draft(bob)], new Date());
    await insertNotifications(db, [draft(ann)], new Date());
    await insertNotifications(db, [draft(bob), draft(ann)], new Date());
    expect(await seqsOf(db, ann)).toEqual([1, 2, 3]);
    expect(await seqsOf(db, bob)).toEqual([1, 2]);
  });

  it("takes one replica's seqs of a user in the order its batches came", async () => {
    const db = await replica();
    const userId = `u-${randomUUID()}`;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        insertNotifications(db, [draft(userId), draft(`other-${i}`)], new Date()),
      ),
    );
    const seqs = outcomes.map(({ inserted }) => inserted.find((n) => n.userId === userId)?.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps a user contiguous when two replicas insert for them at once', async () => {
    const [a, b] = (await replicas(2)) as [NotificationsDb, NotificationsDb];
    const userId = `u-${randomUUID()}`;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        insertNotifications(i % 2 === 0 ? a : b, [draft(userId)], new Date()),
      ),
    );
    expect(await seqsOf(a, userId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('leaves the seq of a duplicate unused, and stores nothing for it', async () => {
    const db = await replica();
    const userId = `u-${randomUUID()}`;
    const first = draft(userId);
    await insertNotifications(db, [first], new Date());
    const again = await insertNotifications(db, [first], new Date());
    expect(again.inserted).toEqual([]);
    expect([...again.duplicateSourceKeys]).toEqual([first.sourceKey]);
    await insertNotifications(db, [draft(userId)], new Date());
    expect(await seqsOf(db, userId)).toEqual([1, 3]);
  });

  it('continues above the one counter of every user that seqs came from before', async () => {
    const db = await replica();
    const userId = `u-${randomUUID()}`;
    const stored = { userId, type: 'welcome', title: 'Old', body: 'old', data: {} } as const;
    await db.notifications.insertOne({
      _id: randomUUID(),
      ...stored,
      sourceKey: `${randomUUID()}:${userId}`,
      createdAt: new Date(),
      readAt: null,
      seq: 37,
    });
    await db.counters.updateOne({ _id: 'notifications' }, { $set: { seq: 40 } }, { upsert: true });
    await insertNotifications(db, [draft(userId)], new Date());
    expect(await seqsOf(db, userId)).toEqual([37, 41]);
  });

  it('finds the first free seq when other replicas took many since this one last did', async () => {
    const [a, b] = (await replicas(2)) as [NotificationsDb, NotificationsDb];
    const userId = `u-${randomUUID()}`;
    await insertNotifications(a, [draft(userId)], new Date());
    for (let i = 0; i < 12; i++) await insertNotifications(b, [draft(userId)], new Date());
    const { inserted } = await insertNotifications(a, [draft(userId), draft('other')], new Date());
    expect(inserted.map((n) => n.seq)).toEqual([14, 1]);
    expect(await seqsOf(a, userId)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
  });
});
