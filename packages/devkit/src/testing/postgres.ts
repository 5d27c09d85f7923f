import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePorts } from '../supervisor/ports.ts';
import { ProcessGroup } from '../supervisor/processes.ts';
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
    initdb(bin, dataDir, dir, account);
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

function initdb(bin: string, dataDir: string, cwd: string, account: Account | undefined): void {
  const result = spawnSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-locale', '-E', 'UTF8', '--no-sync'],
    { cwd, env: { PATH: process.env.PATH, LC_ALL: 'C' }, encoding: 'utf8', ...(account ?? {}) },
  );
  if (result.status !== 0) {
    throw new Error(`initdb exited with ${result.status}:\n${result.stdout}${result.stderr}`);
  }
}

async function startServer(
  postgres: string,
  dataDir: string,
  socketDir: string,
  account: Account | undefined,
): Promise<{ port: number; stop(): Promise<void> }> {
  let output = '';
  const group = new ProcessGroup({
    output: (_name, line) => {
      output = `${output}${line}\n`.slice(-8_000);
    },
    // A server that dies by itself fails waitUntilReady here, or the queries of its test.
    onUnexpectedExit: () => {},
  });
  // The port is free when picked but may be taken before the server binds it: try again.
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    if (port === undefined) throw new Error('no free port');
    group.start({
      name: 'postgres',
      command: postgres,
      args: [
        ...['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir],
        ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      ],
      cwd: socketDir,
      env: { PATH: process.env.PATH, LC_ALL: 'C' },
      account,
    });
    // SIGINT is PostgreSQL's fast shutdown: SIGTERM would wait for every client to leave.
    const stop = () => group.stop('postgres', { signal: 'SIGINT', graceMs: stopGraceMs });
    if (await waitUntilReady(port, group.exited('postgres'))) return { port, stop };
    await stop();
    if (attempt >= 3 || !/already in use/i.test(output)) {
      throw new Error(`postgres did not start on port ${port}:\n${output}`);
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
