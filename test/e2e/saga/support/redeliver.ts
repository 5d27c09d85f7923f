import { loadManifests } from '@shop/devkit/manifests';
import { findRepoRoot, pollUntil } from '@shop/devkit/process';
import { handledDeliveries } from '@shop/devkit/testing';
import type { SagaShop } from './shop.ts';

type Published = { type: string; id: string; source: string };

/** The apps subscribed to each event type, as the services' manifests declare them. */
const manifests = loadManifests(findRepoRoot());
const subscribersOf = (type: string) =>
  manifests.filter((m) => m.subscribes.includes(type)).map((m) => m.appId);

/**
 * Per shop, how many handled deliveries each subscriber must have logged of each event id
 * once the events published here are consumed: its count when first published here (the
 * saga's own delivery of an original id) plus one per publication.
 */
const awaited = new WeakMap<SagaShop, Map<string, { app: string; id: string; times: number }>>();

/**
 * How many handled deliveries a subscriber reaches once one more copy of an event is
 * published. NATS JetStream stores an event id once within its duplicate window (two
 * minutes), as it does an outbox relay's retry, so a copy of an id it already holds is never
 * delivered: there, at least the one delivery is awaited; every other broker delivers each
 * copy.
 */
function deliveriesAfterPublishing(saga: SagaShop, handledSoFar: number): number {
  return saga.broker === 'nats' ? Math.max(handledSoFar, 1) : handledSoFar + 1;
}

/** Publishes `event` through its producer's sidecar and counts it as awaited by `quiesce`. */
export async function publish(saga: SagaShop, event: Published): Promise<void> {
  const ledger = awaited.get(saga) ?? new Map();
  awaited.set(saga, ledger);
  for (const app of subscribersOf(event.type)) {
    const key = `${app} ${event.id}`;
    const entry = ledger.get(key) ?? {
      app,
      id: event.id,
      times: handledDeliveries(saga.shop, app, event.id),
    };
    ledger.set(key, { ...entry, times: deliveriesAfterPublishing(saga, entry.times) });
  }
  await saga.shop.publish(event, event.source);
}

/** Publishes each event twice, in the order given, through its producer's sidecar. */
export async function deliverTwice(
  saga: SagaShop,
  events: Array<Published | undefined>,
): Promise<void> {
  const present = events.map((event) => {
    if (!event) throw new Error('an event to deliver again is not on the timeline');
    return event;
  });
  for (const event of present) await publish(saga, event);
  for (const event of present) await publish(saga, event);
}

/**
 * Lets the redeliveries be consumed: waits until every subscriber of every event published
 * through `publish` has logged handling it as often as it was delivered.
 */
export async function quiesce(saga: SagaShop): Promise<void> {
  const ledger = [...(awaited.get(saga)?.values() ?? [])];
  awaited.delete(saga);
  await pollUntil(
    () => {
      const behind = ledger.filter(
        ({ app, id, times }) => handledDeliveries(saga.shop, app, id) < times,
      );
      return behind.length === 0 ? true : undefined;
    },
    {
      what: 'every subscriber to handle each event delivered again',
      timeoutMs: 30_000,
      intervalMs: 250,
    },
  );
}
