import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { pollUntil } from './poll.ts';

/** Something accepts TCP connections on that loopback port (within 1 s). */
export function portAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => done(true));
  });
}

/** Alive and not a zombie waiting for a parent that does not reap it. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The addresses with a listening TCP socket on `port`, read from /proc/net/tcp{,6}: how a
 * test proves a private server listens on loopback only, and that nothing is left after it.
 */
export function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, portHex] = (local ?? '').split(':');
      // 0A: LISTEN. 0100007F is 127.0.0.1 in the kernel's byte order.
      if (state !== '0A' || Number.parseInt(portHex ?? '', 16) !== port) continue;
      found.push(address === '0100007F' ? '127.0.0.1' : (address ?? '?'));
    }
  }
  return found;
}

/** Polls `check` every 50 ms until it holds or `ms` have passed; then whether it holds. */
export function holdsWithin(ms: number, check: () => boolean | Promise<boolean>): Promise<boolean> {
  return pollUntil(async () => ((await check()) ? true : undefined), {
    what: 'a check to hold',
    timeoutMs: ms,
    intervalMs: 50,
  }).catch(() => check());
}

/**
 * Polls `probe` every 100 ms while `alive` holds (the server's process still runs) and
 * `timeoutMs` has not passed; whether it answered.
 */
export function probeWhileAlive(
  probe: () => Promise<boolean>,
  alive: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  return pollUntil(async () => ((await probe()) ? true : undefined), {
    what: 'an answer',
    timeoutMs,
    giveUpIf: () => (alive() ? undefined : 'the process exited'),
  }).catch(() => false);
}

/** Whether `url` answers 2xx within a second (a server's readiness endpoint). */
export async function httpAnswersOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
