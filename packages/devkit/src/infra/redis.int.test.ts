import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../process/ports.ts';
import { startScratchServer } from '../testing/scratch-server.ts';
import { pingRedis, startRedis } from './redis.ts';
import { ensureRedisPassword } from './secrets.ts';

const stops: Array<() => Promise<void>> = [];
afterAll(() => Promise.all(stops.map((stop) => stop())));

describe('the private Redis with a password', () => {
  it('answers only a client that AUTHs with the password kept in its data folder', async () => {
    const [port = 0] = await freePorts(1);
    const scratch = await startScratchServer(
      { prefix: 'shop-redis-auth-', processName: 'redis' },
      ({ dir, group }) => startRedis(group, dir, port, { password: ensureRedisPassword(dir) }),
    );
    stops.push(scratch.stop);
    const password = ensureRedisPassword(scratch.dir);
    expect(scratch.server.password).toBe(password);
    expect(statSync(join(scratch.dir, 'redis-password')).mode & 0o777).toBe(0o600);
    // Only in a file its owner alone reads, never on the command line.
    expect(statSync(join(scratch.dir, 'redis', 'auth.conf')).mode & 0o777).toBe(0o600);
    const pid = scratch.group.pidOf('redis');
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(password);

    expect(await pingRedis(port)).toBe(false);
    expect(await pingRedis(port, '127.0.0.1', `${password}x`)).toBe(false);
    expect(await pingRedis(port, '127.0.0.1', password)).toBe(true);
  });
});
