import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pollUntil } from '../process/poll.ts';
import type { ProcessGroup } from '../process/processes.ts';
import { ensureDebianProgram } from '../process/system.ts';

export type RedisHandle = {
  host: string;
  port: number;
  address: string;
  /** What clients must AUTH with; none for a test Redis started without one. */
  password: string | undefined;
};

/** Answers when a PING (after AUTH with `password`, when given) gets PONG. */
export function pingRedis(port: number, host = '127.0.0.1', password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let received = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    // Inline commands: the password is base64url (randomSecret), so it needs no quoting.
    socket.once('connect', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`));
    socket.on('data', (data) => {
      received += data.toString();
      if (received.includes('+PONG')) done(true);
      // An error reply (-NOAUTH, -WRONGPASS, -LOADING) is not an answer yet.
      else if (/(^|\r\n)-/.test(received)) done(false);
    });
  });
}

/**
 * The config file that holds the password, readable by its owner only: on the command
 * line (--requirepass) any local user would read it from the process list.
 */
function passwordConfig(dir: string, password: string): string {
  const file = join(dir, 'auth.conf');
  writeFileSync(file, `requirepass ${password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/**
 * A private redis-server on loopback, data under `dataDir`, append-only so a restarted
 * broker keeps every stream entry; with `password`, clients must AUTH with it.
 */
export async function startRedis(
  group: ProcessGroup,
  dataDir: string,
  port: number,
  options: { password?: string } = {},
): Promise<RedisHandle> {
  const binary = ensureDebianProgram('redis-server', 'redis-server');
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const { password } = options;
  group.start({
    name: 'redis',
    command: binary,
    args: [
      // A config file comes first, before the options that add to it.
      ...(password ? [passwordConfig(dir, password)] : []),
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    cwd: dir,
    env: { PATH: process.env.PATH },
  });
  await pollUntil(async () => ((await pingRedis(port, '127.0.0.1', password)) ? true : undefined), {
    what: `redis-server to answer on port ${port}`,
    timeoutMs: 15_000,
    intervalMs: 50,
    giveUpIf: () =>
      group.has('redis') ? undefined : 'redis-server exited during start (see its log)',
  });
  return { host: '127.0.0.1', port, address: `127.0.0.1:${port}`, password };
}
