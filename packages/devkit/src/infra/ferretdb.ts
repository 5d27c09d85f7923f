import { mkdirSync } from 'node:fs';
import { freePorts } from '../process/ports.ts';
import { portAnswers, probeWhileAlive } from '../process/probes.ts';
import type { ProcessGroup } from '../process/processes.ts';
import { type GoTool, resolveGoTool } from '../toolchain/go-tool.ts';

const ferretdbModule = 'github.com/FerretDB/FerretDB';

export const ferretdbTool: GoTool = {
  name: 'ferretdb',
  wrapperDir: 'tools/ferretdb',
  module: ferretdbModule,
  mainPackage: `${ferretdbModule}/cmd/ferretdb`,
  // Its release builds generate build/version/version.txt, which the published module
  // lacks; without it the binary panics at start.
  generatedFiles: (version) => ({ 'build/version/version.txt': `v${version}` }),
  ldflags: () => '-s -w',
  buildEnv: { CGO_ENABLED: '0' },
  versionArgs: ['--version'],
  // It prints `version: v1.24.2` followed by commit, branch and build details.
  versionFrom: (output) => /^version: (\S+)$/m.exec(output)?.[1],
  pathVariable: 'FERRETDB_PATH',
};

/** A FerretDB of the pinned version, built and cached on first use. */
export const resolveFerretDB = (repoRoot: string) => resolveGoTool(repoRoot, ferretdbTool);

export type FerretDBHandle = {
  port: number;
  /** A `mongodb://` URL for `database` on this server. */
  url(database: string): string;
};

const startTimeoutMs = 15_000;

/**
 * Where FerretDB keeps its documents: SQLite files in its data folder, or a PostgreSQL
 * database. PostgreSQL is the cheaper of the two for any query not by `_id`: FerretDB
 * hands an equality filter to PostgreSQL there, while on SQLite it reads and decodes the
 * whole collection itself.
 */
export type FerretDBBackend = { sqlite: true } | { postgresqlUrl: string };

function backendArgs(backend: FerretDBBackend, dataDir: string): string[] {
  if ('postgresqlUrl' in backend) {
    return ['--handler=postgresql', `--postgresql-url=${backend.postgresqlUrl}`];
  }
  // A directory URI: one SQLite file per database. The trailing slash is required.
  return ['--handler=sqlite', `--sqlite-url=file:${dataDir}/`];
}

/**
 * A private FerretDB in `group` (process `name`, default `ferretdb`): a MongoDB-compatible
 * server over `backend` (SQLite files in `dataDir` unless given), on a free loopback port,
 * with its telemetry off and no debug listener (its default, port 8088, would collide
 * between instances). Resolves once it accepts connections; a restart keeps the data.
 */
export async function startFerretDB(
  group: ProcessGroup,
  options: { binary: string; dataDir: string; name?: string; backend?: FerretDBBackend },
): Promise<FerretDBHandle> {
  const name = options.name ?? 'ferretdb';
  mkdirSync(options.dataDir, { recursive: true });
  // The port is free when picked but may be taken before the server binds it: try again.
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    if (port === undefined) throw new Error('no free port');
    group.start({
      name,
      command: options.binary,
      args: [
        `--listen-addr=127.0.0.1:${port}`,
        ...backendArgs(options.backend ?? { sqlite: true }, options.dataDir),
        `--state-dir=${options.dataDir}`,
        '--telemetry=disable',
        '--debug-addr=-',
        '--log-level=warn',
      ],
      cwd: options.dataDir,
      env: { PATH: process.env.PATH },
    });
    if (await acceptsConnections(port, () => group.has(name))) {
      return {
        port,
        url: (database) => `mongodb://127.0.0.1:${port}/${encodeURIComponent(database)}`,
      };
    }
    await group.stop(name, { graceMs: 2_000 });
    if (attempt >= 3) throw new Error(`ferretdb did not start on port ${port} (see its log)`);
  }
}

/** Waits (up to 15 s) until the server on `port` accepts a connection, while `alive` holds. */
export const acceptsConnections = (port: number, alive: () => boolean): Promise<boolean> =>
  probeWhileAlive(() => portAnswers(port), alive, startTimeoutMs);
