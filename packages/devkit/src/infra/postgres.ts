import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { pollUntil } from '../process/poll.ts';
import { freePorts } from '../process/ports.ts';
import type { ProcessGroup } from '../process/processes.ts';
import { ensureDebianProgram, findExecutables } from '../process/system.ts';

export type PostgresHandle = {
  port: number;
  /** A connection URL for `database` on this server (default `postgres`). */
  url(database?: string): string;
  /** Creates the database unless it exists, and returns its URL. */
  ensureDatabase(name: string): Promise<string>;
};

export type PostgresOptions = {
  /** The cluster's folder: made by initdb when empty, reused as it is otherwise. */
  clusterDir: string;
  /**
   * fsync and full-page writes on, so a crash loses no committed change (`npm start`);
   * off only for a throw-away cluster, where speed matters and nothing must survive.
   */
  durable: boolean;
};

type Account = { uid: number; gid: number };

const debianRoot = '/usr/lib/postgresql';
const startTimeoutMs = 30_000;

/**
 * A private PostgreSQL server in `group` (process `postgres`): Debian's binaries, loopback
 * TCP only (no Unix socket, so no path length limit), trust auth, a free port each start.
 */
export async function startPostgres(
  group: ProcessGroup,
  options: PostgresOptions,
): Promise<PostgresHandle> {
  const bin = postgresBinDir();
  // PostgreSQL refuses to run as root, so root hands the cluster to an ordinary account.
  const account = process.getuid?.() === 0 ? unprivilegedAccount() : undefined;
  const { clusterDir } = options;
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (account) {
    chownSync(clusterDir, account.uid, account.gid);
    // The account must pass through the folder that holds the cluster (mkdtemp makes it 0700).
    const parent = dirname(clusterDir);
    chmodSync(parent, statSync(parent).mode | 0o001);
  }
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) initdb(bin, options, account);

  const tuning = options.durable
    ? []
    : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];
  // The port is free when picked but may be taken before the server binds it: try again.
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    if (port === undefined) throw new Error('no free port');
    group.start({
      name: 'postgres',
      command: join(bin, 'postgres'),
      args: [
        ...['-D', clusterDir, '-p', String(port), '-h', '127.0.0.1', '-k', ''],
        ...tuning.flatMap((setting) => ['-c', setting]),
      ],
      cwd: clusterDir,
      env: { PATH: process.env.PATH, LC_ALL: 'C' },
      account,
      // Fast shutdown: SIGTERM would wait for every client to leave.
      stopSignal: 'SIGINT',
    });
    if (await waitUntilReady(port, group.exited('postgres'))) {
      const url = (database = 'postgres') =>
        `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;
      return { port, url, ensureDatabase: (name) => ensureDatabase(url, name) };
    }
    await group.stop('postgres', { graceMs: 5_000 });
    if (attempt >= 3) throw new Error(`postgres did not start on port ${port} (see its log)`);
  }
}

async function ensureDatabase(url: (database?: string) => string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
  const client = new pg.Client({ connectionString: url() });
  await client.connect();
  try {
    const existing = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (existing.rowCount === 0) await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  return url(name);
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

function initdb(bin: string, options: PostgresOptions, account: Account | undefined): void {
  const { clusterDir } = options;
  const result = spawnSync(
    join(bin, 'initdb'),
    [
      ...['-D', clusterDir, '-U', 'postgres', '-A', 'trust', '--no-locale', '-E', 'UTF8'],
      ...(options.durable ? [] : ['--no-sync']),
    ],
    {
      cwd: clusterDir,
      env: { PATH: process.env.PATH, LC_ALL: 'C' },
      encoding: 'utf8',
      ...(account ?? {}),
    },
  );
  if (result.status !== 0) {
    throw new Error(`initdb exited with ${result.status}:\n${result.stdout}${result.stderr}`);
  }
}

async function waitUntilReady(port: number, exited: Promise<unknown>): Promise<boolean> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const connects = async () => {
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
      connectionTimeoutMillis: 1_000,
    });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } finally {
      await client.end().catch(() => {});
    }
  };
  return pollUntil(connects, {
    what: `postgres on port ${port}`,
    timeoutMs: startTimeoutMs,
    intervalMs: 50,
    giveUpIf: () => (gone ? 'postgres exited' : undefined),
  }).catch(() => false);
}
