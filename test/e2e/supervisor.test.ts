import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pingRedis } from '@shop/devkit/infra';
import { findRepoRoot, freePorts, pollUntil } from '@shop/devkit/process';
import { loadManifest } from '@shop/devkit/shop';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = findRepoRoot();

/** Live (not zombie) processes below `root`, read from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const list = children.get(Number(ppid)) ?? [];
      list.push(Number(entry));
      children.set(Number(ppid), list);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Each service's environment as the supervisor gave it, by app id (its folder's name). */
function serviceEnvironments(root: number): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  for (const pid of descendants(root)) {
    try {
      const service = /\/services\/([a-z-]+)$/.exec(readlinkSync(`/proc/${pid}/cwd`))?.[1];
      if (!service) continue;
      const pairs = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
      found.set(service, Object.fromEntries(pairs.map((p) => p.split(/=(.*)/s, 2))));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

type Started = { child: ChildProcess; output: () => string; gatewayUrl: string; dataDir: string };
const started: Started[] = [];

async function startSupervisor(
  options: {
    waitForReady?: boolean;
    adminPassword?: string;
    dataDir?: string;
    args?: string[];
    env?: Record<string, string>;
  } = {},
): Promise<Started> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'shop-supervisor-'));
  const [port] = await freePorts(1);
  const child = spawn(process.execPath, ['scripts/start.ts', ...(options.args ?? [])], {
    cwd: repoRoot,
    env: {
      ...process.env,
      GATEWAY_PORT: String(port),
      SHOP_DATA_DIR: dataDir,
      ADMIN_EMAIL: 'root@example.com',
      ADMIN_PASSWORD: options.adminPassword ?? '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const entry = { child, output: () => output, gatewayUrl: `http://127.0.0.1:${port}`, dataDir };
  started.push(entry);
  if (options.waitForReady === false) return entry;
  try {
    await pollUntil(async () => (output.includes('shop: ready in') ? true : undefined), {
      timeoutMs: 90_000,
      what: "the supervisor's ready line",
    });
  } catch (error) {
    // What the supervisor printed by the deadline, not by the call: the reason it hangs.
    throw new Error(`${(error as Error).message}; output:\n${output.slice(-6_000)}`);
  }
  return entry;
}

/** The supervisor's child whose working folder is services/<appId>. */
function serviceProcess(shop: Started, appId: string): number | undefined {
  return descendants(shop.child.pid as number).find((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`).endsWith(`/services/${appId}`);
    } catch {
      return false;
    }
  });
}

/** The supervisor's direct child whose command line has all of `words` (setpriv execs). */
function childWith(shop: Started, ...words: string[]): number | undefined {
  const supervisor = shop.child.pid as number;
  return descendants(supervisor).find((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return ppid === supervisor && words.every((word) => args.includes(word));
    } catch {
      return false;
    }
  });
}

async function productsAnswer(gatewayUrl: string): Promise<true | undefined> {
  const res = await fetch(`${gatewayUrl}/api/v1/products?limit=5`, {
    signal: AbortSignal.timeout(2_000),
  }).catch(() => undefined);
  await res?.body?.cancel();
  return res?.status === 200 ? true : undefined;
}

async function logsIn(gatewayUrl: string, email: string): Promise<true | undefined> {
  const res = await fetch(`${gatewayUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery' }),
    signal: AbortSignal.timeout(2_000),
  }).catch(() => undefined);
  await res?.body?.cancel();
  return res?.status === 200 ? true : undefined;
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

afterEach(() => {
  for (const { child, dataDir } of started.splice(0)) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// Each case starts a whole shop as a separate process, hence the generous timeouts.
describe('npm start supervisor', { timeout: 120_000 }, () => {
  it('prints one ready line with the gateway URL, honours GATEWAY_PORT, and Ctrl-C leaves nothing behind', async () => {
    const shop = await startSupervisor({ adminPassword: 'a-long-admin-password' });
    expect(shop.output()).toContain(`ready in`);
    expect(shop.output()).toContain(`at ${shop.gatewayUrl}`);
    expect(shop.output()).not.toContain('has the password');
    const res = await fetch(`${shop.gatewayUrl}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'cli@example.com',
        password: 'correct horse battery',
        name: 'CLI',
      }),
    });
    expect(res.status).toBe(201);

    const pids = descendants(shop.child.pid as number);
    // redis, three services and three sidecars, each possibly under setpriv's exec
    expect(pids.length).toBeGreaterThanOrEqual(7);
    shop.child.kill('SIGINT');
    expect(await exitOf(shop.child)).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(shop.output()).toContain('shop: stopped');
  });

  it('gives each service its own metrics port and app token, and Redis a password kept in the data folder', async () => {
    const shop = await startSupervisor({ adminPassword: 'a-long-admin-password' });
    expect((await fetch(`${shop.gatewayUrl}/metrics`)).status).toBe(404);
    const services = serviceEnvironments(shop.child.pid as number);
    const appIds = loadManifest(repoRoot).apps.map((app) => app.appId);
    expect([...services.keys()].sort()).toEqual([...appIds].sort());
    for (const [appId, env] of services) {
      const metrics = await fetch(`http://127.0.0.1:${env.METRICS_PORT}/metrics`);
      expect(await metrics.text()).toContain(`service="${appId}"`);
    }
    const appTokens = [...services.values()].map((env) => env.APP_API_TOKEN);
    const daprTokens = [...services.values()].map((env) => env.DAPR_API_TOKEN);
    expect(new Set([...appTokens, ...daprTokens]).size).toBe(appIds.length * 2);

    const { REDIS_HOST = '', REDIS_PASSWORD } = services.get('gateway') ?? {};
    const [host, port] = REDIS_HOST.split(':');
    const file = join(shop.dataDir, 'redis-password');
    expect(REDIS_PASSWORD).toBe(readFileSync(file, 'utf8').trim());
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await pingRedis(Number(port), host)).toBe(false);
    expect(await pingRedis(Number(port), host, REDIS_PASSWORD)).toBe(true);
    shop.child.kill('SIGINT');
    expect(await exitOf(shop.child)).toBe(0);
  });

  it('leaves no orphan even when the supervisor itself is killed with SIGKILL', async () => {
    const shop = await startSupervisor();
    const pids = descendants(shop.child.pid as number);
    expect(pids.length).toBeGreaterThanOrEqual(7);
    shop.child.kill('SIGKILL');
    await exitOf(shop.child);
    await pollUntil(async () => (pids.filter(alive).length === 0 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'every child to die',
    });
  });

  it('prints a generated admin password once made, and the same one on the next start', async () => {
    const first = await startSupervisor();
    const password = /has the password (\S+)/.exec(first.output())?.[1];
    expect(password).toBeDefined();
    first.child.kill('SIGINT');
    expect(await exitOf(first.child)).toBe(0);
    expect(readFileSync(join(first.dataDir, 'admin-password'), 'utf8').trim()).toBe(password);
    const second = await startSupervisor({ dataDir: first.dataDir });
    expect(/has the password (\S+)/.exec(second.output())?.[1]).toBe(password);
    second.child.kill('SIGINT');
    expect(await exitOf(second.child)).toBe(0);
  });

  it('stops in order when Ctrl-C comes while it is still starting', async () => {
    const shop = await startSupervisor({ waitForReady: false });
    await pollUntil(
      async () => (descendants(shop.child.pid as number).length >= 4 ? true : undefined),
      { what: 'the supervisor to start its first four children', timeoutMs: 20_000 },
    );
    const pids = descendants(shop.child.pid as number);
    shop.child.kill('SIGINT');
    expect(await exitOf(shop.child)).toBe(0);
    expect(shop.output()).not.toContain('shop: ready in');
    expect(shop.output()).toContain('shop: stopped');
    expect(pids.filter(alive)).toEqual([]);
  });

  it('with SHOP_HEAL=off, stops everything and exits non-zero when a child crashes', async () => {
    const shop = await startSupervisor({ env: { SHOP_HEAL: 'off' } });
    const pids = descendants(shop.child.pid as number);
    const users = serviceProcess(shop, 'users');
    expect(users).toBeDefined();
    process.kill(users as number, 'SIGKILL');
    expect(await exitOf(shop.child)).toBe(1);
    expect(shop.output()).toMatch(/exited unexpectedly/);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('heals: kill -9 of a service, its sidecar and PostgreSQL, and the shop answers again', async () => {
    const shop = await startSupervisor({
      adminPassword: 'a-long-admin-password',
      // The gateway's login budget (20 a minute) would answer the polling below with 429.
      env: { SHOP_GATEWAY_RATE_LIMIT_AUTH: '1000/60s' },
    });
    const email = 'heal@example.com';
    const register = await fetch(`${shop.gatewayUrl}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery', name: 'Heal' }),
    });
    expect(register.status).toBe(201);
    const before = descendants(shop.child.pid as number);
    const victims = {
      users: serviceProcess(shop, 'users'),
      'users-dapr': childWith(shop, '--app-id', 'users'),
      postgres: childWith(shop, '-D'),
    };
    expect(Object.values(victims).every((pid) => pid !== undefined)).toBe(true);
    for (const pid of Object.values(victims)) process.kill(pid as number, 'SIGKILL');

    const healed = Date.now();
    await pollUntil(
      async () => (await productsAnswer(shop.gatewayUrl)) && logsIn(shop.gatewayUrl, email),
      { what: 'the gateway to list products and log in again', timeoutMs: 60_000, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; output:\n${shop.output().slice(-6_000)}`);
    });
    expect(Date.now() - healed).toBeLessThan(60_000);
    for (const name of Object.keys(victims)) {
      expect(shop.output()).toMatch(
        new RegExp(`shop: ${name} exited \\(signal SIGKILL\\); restart 1 in`),
      );
    }
    expect(shop.child.exitCode).toBeNull();
    for (const pid of Object.values(victims)) expect(alive(pid as number)).toBe(false);

    const after = descendants(shop.child.pid as number);
    shop.child.kill('SIGINT');
    expect(await exitOf(shop.child)).toBe(0);
    expect([...before, ...after].filter(alive)).toEqual([]);
  });

  it('runs every service twice with --replicas 2, and refuses a count out of 1..4', async () => {
    const wrong = await startSupervisor({ args: ['--replicas', '5'], waitForReady: false });
    expect(await exitOf(wrong.child)).toBe(1);
    expect(wrong.output()).toContain('must be a whole number from 1 to 4, not "5"');

    const shop = await startSupervisor({ env: { SHOP_REPLICAS: '2' } });
    const second = /more gateways at (\S+)/.exec(shop.output())?.[1];
    expect(second).toBeDefined();
    expect(second).not.toBe(shop.gatewayUrl);
    await pollUntil(() => productsAnswer(second as string), {
      what: 'the second gateway',
      timeoutMs: 10_000,
    });
    const appIds = loadManifest(repoRoot).apps.map((app) => app.appId);
    const services = descendants(shop.child.pid as number).filter((pid) => {
      try {
        return /\/services\/[a-z-]+$/.test(readlinkSync(`/proc/${pid}/cwd`));
      } catch {
        return false;
      }
    });
    expect(services).toHaveLength(appIds.length * 2);
    shop.child.kill('SIGINT');
    expect(await exitOf(shop.child)).toBe(0);
  });
});
