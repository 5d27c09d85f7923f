import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ProcessGroup } from './processes.ts';
import { ensureDebianProgram } from './system.ts';

export type RedisHandle = { host: string; port: number; address: string };

/** Answers when a PING gets PONG. */
export function pingRedis(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * A private redis-server on loopback, data under `dataDir`, append-only so a restarted
 * broker keeps every stream entry.
 */
export async function startRedis(
  group: ProcessGroup,
  dataDir: string,
  port: number,
): Promise<RedisHandle> {
  const binary = ensureDebianProgram('redis-server', 'redis-server');
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  group.start({
    name: 'redis',
    command: binary,
    args: [
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
  const deadline = Date.now() + 15_000;
  while (!(await pingRedis(port))) {
    if (!group.has('redis')) throw new Error('redis-server exited during start (see its log)');
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { host: '127.0.0.1', port, address: `127.0.0.1:${port}` };
}
