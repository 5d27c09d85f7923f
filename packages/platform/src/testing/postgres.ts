import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePorts } from '../supervisor/ports.ts';
import { ensureDebianProgram, findExecutables } from '../supervisor/system.ts';

export type TestPostgres = {
  /** A connection URL for `database` on this server (default `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
};

type Account = { uid: number; gid: number };

const debianRoot = '/usr/lib/postgresql';
const startTimeoutMs = 30_000;
const stopGraceMs = 5_000;

/**
 * A private, throw-away PostgreSQL for one test file: Debian's binaries, a fresh cluster
 * in a temp folder, loopback only, trust auth, fsync off. Nothing is assumed running.
 *
 * @example
 * const postgres = await startPostgres();
 * const database = createDatabase({ url: await postgres.createDatabase('orders_test'), logger });
 * await postgres.stop();
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  // PostgreSQL refuses to run as root, so root hands the cluster to an ordinary account.
  const account = process.getuid?.() === 0 ? unprivilegedAccount() : undefined;
  // /tmp rather than TMPDIR: the account must reach the folder, and the socket path is short.
  const dir = await mkdtemp(join(account ? '/tmp' : tmpdir(), 'shop-pg-'));
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  try {
    if (account) await chown(dir, account.uid, account.gid);
    const dataDir = join(dir, 'data');
    await runToEnd(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-locale', '-E', 'UTF8', '--no-sync'],
      { cwd: dir, account },
    );
    const server = await startServer(join(bin, 'postgres'), dataDir, dir, account);
    const url = (database = 'postgres') =>
      `postgres://postgres@127.0.0.1:${server.port}/${encodeURIComponent(database)}`;
    return {
      url,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
        const client = new pg.Client({ connectionString: url() });
        await client.connect();
        try {
          await client.query(`create database ${name}`);
        } finally {
          await client.end();
        }
        return url(name);
      },
      async stop() {
        await server.stop();
        process.removeListener('exit', removeOnExit);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    process.removeListener('exit', removeOnExit);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Debian keeps the server programs off PATH, in /usr/lib/postgresql/<major>/bin. */
function postgresBinDir(): string {
  const find = () => {
    const onPath = findExecutables('postgres').map((file) => join(file, '..'));
    const debian = existsSync(debianRoot)
      ? readdirSync(debianRoot)
          .filter((major) => /^\d+$/.test(major))
          .sort((a, b) => Number(b) - Number(a))
          .map((major) => join(debianRoot, major, 'bin'))
      : [];
    return [...onPath, ...debian].find((dir) => existsSync(join(dir, 'initdb')));
  };
  const found = find();
  if (found) return found;
  // pg_ctlcluster comes with the package and sits on PATH, unlike the server itself.
  ensureDebianProgram('pg_ctlcluster', 'postgresql');
  const installed = find();
  if (!installed)
    throw new Error(`package "postgresql" is installed but no initdb under ${debianRoot}`);
  return installed;
}

function unprivilegedAccount(): Account {
  const id = (flag: '-u' | '-g', name: string) => {
    const result = spawnSync('id', [flag, name], { encoding: 'utf8' });
    return result.status === 0 ? Number(result.stdout.trim()) : undefined;
  };
  // Debian's package creates `postgres`; without it, the kernel's overflow account.
  const uid = id('-u', 'postgres');
  const gid = id('-g', 'postgres');
  return uid !== undefined && gid !== undefined ? { uid, gid } : { uid: 65534, gid: 65534 };
}

type SpawnOptions = { cwd: string; account: Account | undefined };

function spawnAs(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, LC_ALL: 'C' },
    // Node drops root's supplementary groups when it switches the ids.
    ...(options.account ? { uid: options.account.uid, gid: options.account.gid } : {}),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collectOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    child.once('error', () => resolve(-1));
    child.once('exit', (code) => resolve(code));
  });
}

async function runToEnd(command: string, args: string[], options: SpawnOptions): Promise<void> {
  const child = spawnAs(command, args, options);
  const output = collectOutput(child);
  const code = await exitOf(child);
  if (code !== 0) throw new Error(`${command} exited with ${code}:\n${output()}`);
}

async function startServer(
  postgres: string,
  dataDir: string,
  socketDir: string,
  account: Account | undefined,
): Promise<{ port: number; stop(): Promise<void> }> {
  // setpriv (util-linux) has the kernel kill the server if this process dies without
  // stopping it; it runs after the switch to `account`, which would otherwise clear it.
  const setpriv = findExecutables('setpriv')[0];
  // The port is free when picked but may be taken before the server binds it: try again.
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    if (port === undefined) throw new Error('no free port');
    const args = [
      ...['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ];
    const child = setpriv
      ? spawnAs(setpriv, ['--pdeathsig', 'SIGKILL', '--', postgres, ...args], {
          cwd: socketDir,
          account,
        })
      : spawnAs(postgres, args, { cwd: socketDir, account });
    const output = collectOutput(child);
    const exited = exitOf(child);
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const killOnExit = () => killGroup('SIGKILL');
    process.once('exit', killOnExit);
    const stop = async () => {
      // SIGINT is PostgreSQL's fast shutdown: SIGTERM would wait for every client to leave.
      killGroup('SIGINT');
      const timer = setTimeout(() => killGroup('SIGKILL'), stopGraceMs);
      await exited;
      clearTimeout(timer);
      killGroup('SIGKILL');
      process.removeListener('exit', killOnExit);
    };

    const ready = await waitUntilReady(port, exited);
    if (ready) return { port, stop };
    await stop();
    if (attempt >= 3 || !/already in use/i.test(output())) {
      throw new Error(`postgres did not start on port ${port}:\n${output()}`);
    }
  }
}

async function waitUntilReady(port: number, exited: Promise<unknown>): Promise<boolean> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + startTimeoutMs;
  while (!gone && Date.now() < deadline) {
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
      connectionTimeoutMillis: 1_000,
    });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => {});
    }
  }
  return false;
}
