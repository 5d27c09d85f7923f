// Live notification streams held open through the whole soak, as a browser's EventSource
// would: each reconnects a second after it ends or fails, with the last event id it saw, so
// nothing sent meanwhile is missed.
import type { Shopper } from './mix.ts';

export type StreamCounts = { opened: number; reconnects: number; events: number };

export function holdStreams(gatewayUrls: string[], shoppers: Shopper[]) {
  const counts: StreamCounts = { opened: 0, reconnects: 0, events: 0 };
  const stop = new AbortController();
  const held = shoppers.map((shopper, i) =>
    followStream(gatewayUrls[i % gatewayUrls.length] as string, shopper.token, counts, stop.signal),
  );
  return {
    counts,
    async close(): Promise<StreamCounts> {
      stop.abort();
      await Promise.all(held);
      return counts;
    },
  };
}

async function followStream(
  gatewayUrl: string,
  token: string,
  counts: StreamCounts,
  signal: AbortSignal,
): Promise<void> {
  const seen: { lastEventId?: string } = {};
  for (let first = true; !signal.aborted; first = false) {
    if (!first) {
      counts.reconnects++;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    try {
      const res = await fetch(`${gatewayUrl}/api/v1/notifications/stream`, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'text/event-stream',
          ...(seen.lastEventId && { 'last-event-id': seen.lastEventId }),
        },
        signal,
      });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        continue;
      }
      counts.opened++;
      await readEvents(res.body, counts, seen);
    } catch {
      // refused, reset or aborted: the loop decides whether to go on
    }
  }
}

/** Counts `notification` events until the stream ends, noting the last event id as it goes. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  counts: StreamCounts,
  seen: { lastEventId?: string },
): Promise<void> {
  let pending = '';
  const decoder = new TextDecoder();
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    pending += decoder.decode(value, { stream: true });
    const events = pending.split('\n\n');
    pending = events.pop() ?? '';
    for (const event of events) {
      const id = /^id: ?(\d+)$/m.exec(event)?.[1];
      if (/^event: ?notification$/m.test(event)) counts.events++;
      if (id) seen.lastEventId = id;
    }
  }
}
