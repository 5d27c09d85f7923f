import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startPostgres, type TestPostgres } from '@shop/devkit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenMigrationsFolder, migrationsFolder } from './testdata/backends.ts';

// The command the Helm hook and `npm run migrate` run, as a real process against a real server.
const cli = fileURLToPath(new URL('./migrate-cli.ts', import.meta.url));

function migrate(folder: string | undefined, databaseUrl: string | undefined) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LOG_LEVEL: 'info' };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return spawnSync(process.execPath, folder ? [cli, folder] : [cli], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = 'public' order by 1",
    );
    return rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

describe('migrate-cli', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(() => postgres?.stop());

  it('migrates to the latest version and is a no-op the second time', async () => {
    const url = await postgres.createDatabase('cli_ok');
    const first = migrate(migrationsFolder, url);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('"migration":"0001_init"');
    expect(await tables(url)).toEqual(
      expect.arrayContaining(['outbox', 'processed_events', 'dead_letters', 'widgets']),
    );
    const second = migrate(migrationsFolder, url);
    expect(second.status).toBe(0);
    expect(second.stdout).not.toContain('migration applied');
  });

  it('exits 1 naming the migration that failed', async () => {
    const url = await postgres.createDatabase('cli_broken');
    const result = migrate(brokenMigrationsFolder, url);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('0002_broken');
  });

  it('refuses to run without DATABASE_URL or without a folder', () => {
    expect(migrate(migrationsFolder, undefined).status).not.toBe(0);
    expect(migrate(undefined, 'postgres://127.0.0.1:1/none').status).toBe(2);
  });
});
