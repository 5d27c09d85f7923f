import { createParser, type EventSourceParser } from 'eventsource-parser';

/** One server-sent event as a client sees it; `comment` for a `:` line (a heartbeat). */
export type ServerSentEvent =
  | { kind: 'event'; id: string | undefined; event: string; data: string }
  | { kind: 'comment'; text: string };

export type EventStreamReader = {
  /** The next event or comment; throws when the stream ends first or `timeoutMs` passes. */
  next(timeoutMs?: number): Promise<ServerSentEvent>;
  /** The next real event (comments skipped). */
  nextEvent(timeoutMs?: number): Promise<Extract<ServerSentEvent, { kind: 'event' }>>;
  /** Resolves once the server has ended the stream (whatever was still unread is dropped). */
  ended(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

/**
 * Reads a `text/event-stream` response as it arrives (parsed by eventsource-parser as an
 * EventSource would: fields `id`, `event`, `data` and `:` comments, an event per blank
 * line), so a test can wait for one event while the response is still open.
 *
 * @example
 * const stream = readEventStream(await shop.send('GET', '/api/v1/notifications/stream', { token }));
 * const { id, data } = await stream.nextEvent();
 */
export function readEventStream(response: Response): EventStreamReader {
  if (!response.body) throw new Error('the response has no body');
  return new StreamReader(response.body.pipeThrough(new TextDecoderStream()).getReader());
}

class StreamReader implements EventStreamReader {
  readonly #queue: ServerSentEvent[] = [];
  readonly #reader: ReadableStreamDefaultReader<string>;
  readonly #parser: EventSourceParser;
  #done = false;

  constructor(reader: ReadableStreamDefaultReader<string>) {
    this.#reader = reader;
    this.#parser = createParser({
      onEvent: ({ id, event, data }) =>
        this.#queue.push({ kind: 'event', id, event: event ?? 'message', data }),
      onComment: (text) => this.#queue.push({ kind: 'comment', text: text.trim() }),
    });
  }

  async next(timeoutMs = 10_000): Promise<ServerSentEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = this.#queue.shift();
      if (item) return item;
      if (this.#done) throw new Error('the event stream ended');
      await this.#pull(deadline);
    }
  }

  async nextEvent(timeoutMs = 10_000): Promise<Extract<ServerSentEvent, { kind: 'event' }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = await this.next(Math.max(0, deadline - Date.now()));
      if (item.kind === 'event') return item;
    }
  }

  async ended(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#done) {
      this.#queue.length = 0;
      await this.#pull(deadline);
    }
  }

  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  /** Reads one chunk into the parser, or fails once `deadline` has passed. */
  async #pull(deadline: number): Promise<void> {
    const chunk = await beforeDeadline(this.#reader.read(), deadline);
    if (chunk.done) this.#done = true;
    else this.#parser.feed(chunk.value);
  }
}

async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error('no server-sent event in time')),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
