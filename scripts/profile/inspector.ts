// A Node service's CPU profile over a window of our choosing, through its inspector (the
// shop starts it with --inspect on a loopback port of its own): Profiler.start when the
// step begins, Profiler.stop when it ends, so start-up and warm-up stay out of it.
import type { CpuProfile } from './fold.ts';

type Reply = { id: number; result?: unknown; error?: { message: string } };

/** One DevTools-protocol session over the inspector's WebSocket. */
export class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Reply) => void>();

  private readonly socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener('message', (event) => {
      const reply = JSON.parse(String(event.data)) as Partial<Reply>;
      if (reply.id !== undefined) this.pending.get(reply.id)?.(reply as Reply);
    });
  }

  /** Opens a session on the (only) target of the inspector listening on `port`. */
  static async open(port: number): Promise<InspectorSession> {
    const res = await fetch(`http://127.0.0.1:${port}/json/list`, {
      signal: AbortSignal.timeout(5_000),
    });
    const [target] = (await res.json()) as Array<{ webSocketDebuggerUrl: string }>;
    if (!target) throw new Error(`the inspector on port ${port} has no target`);
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`inspector ${port}: no session`)), {
        once: true,
      });
    });
    return new InspectorSession(socket);
  }

  /** Sends one command and waits for its answer. */
  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, (reply) => {
        this.pending.delete(id);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result as T);
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** Starts sampling every `intervalUs` µs; the returned stop ends it and yields the profile. */
export async function startCpuProfile(
  port: number,
  intervalUs: number,
): Promise<() => Promise<CpuProfile>> {
  const session = await InspectorSession.open(port);
  await session.call('Profiler.enable');
  await session.call('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.call('Profiler.start');
  return async () => {
    try {
      const { profile } = await session.call<{ profile: CpuProfile }>('Profiler.stop');
      return profile;
    } finally {
      session.close();
    }
  };
}
