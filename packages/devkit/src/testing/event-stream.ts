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
 * Reads a `text/event-stream` response as it arrives (the parsing an EventSource does:
 * fields `id`, `event`, `data` and `:` comments, an event per blank line), so a test can
 * wait for one event while the response is still open.
 *
 * @example
 * const stream = readEventStream(await shop.send('GET', '/api/v1/notifications/stream', { token }));
 * const { id, data } = await stream.nextEvent();
 */
export function readEventStream(response: Response): EventStreamReader {
  if (!response.body) throw new Error('the response has no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const queue: ServerSentEvent[] = [];
  let buffer = '';
  let done = false;
  let fields: { id?: string; event?: string; data: string[] } = { data: [] };

  const parseLine = (line: string) => {
    if (line === '') {
      if (fields.data.length > 0 || fields.event !== undefined) {
        queue.push({
          kind: 'event',
          id: fields.id,
          event: fields.event ?? 'message',
          data: fields.data.join('\n'),
        });
      }
      fields = { data: [] };
      return;
    }
    if (line.startsWith(':')) {
      queue.push({ kind: 'comment', text: line.slice(1).trim() });
      return;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') fields.data.push(value);
    else if (name === 'id') fields.id = value;
    else if (name === 'event') fields.event = value;
  };

  const pull = async (deadline: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('no server-sent event in time')),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk.done) {
        done = true;
        return;
      }
      buffer += chunk.value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? '';
      for (const line of lines) parseLine(line);
    } finally {
      clearTimeout(timer);
    }
  };

  const next = async (timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = queue.shift();
      if (item) return item;
      if (done) throw new Error('the event stream ended');
      await pull(deadline);
    }
  };

  return {
    next,
    async nextEvent(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const item = await next(Math.max(0, deadline - Date.now()));
        if (item.kind === 'event') return item;
      }
    },
    async ended(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done) {
        queue.length = 0;
        await pull(deadline);
      }
    },
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
}
