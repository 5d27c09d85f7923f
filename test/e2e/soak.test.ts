import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultMix } from '../../scripts/soak/mix.ts';
import { writeReport } from '../../scripts/soak/report/render.ts';
import { runSoak } from '../../scripts/soak/run.ts';

// The short soak `npm test` runs: a minute and a half of the shopper mix on the default
// profile while a process of the shop is killed every 15 s. Seed 4 draws, while all run,
// catalog, postgres, redis, orders-dapr, cart and catalog-dapr: the databases, the broker,
// a service and sidecars. The long runs, per broker, are `npm run soak` (docs/soak.md).
const outDir = mkdtempSync(join(tmpdir(), 'shop-soak-'));
// The shop's PostgreSQL runs as another account, which must reach its folder below this one.
chmodSync(outDir, 0o755);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('a short soak with chaos', () => {
  it('keeps every acknowledged order, heals every kill, and the invariants hold', async () => {
    const report = await runSoak({
      minutes: 1.5,
      rate: 10,
      mix: defaultMix,
      broker: 'redis',
      stateStore: 'redis',
      replicas: 1,
      chaosEverySeconds: 15,
      seed: 4,
      shoppers: 30,
      streams: 5,
      orderTtlSeconds: 180,
      dataDir: join(outDir, 'shop'),
      log: () => {},
    });
    const files = await writeReport(report, outDir);

    expect(report.verdict.reasons).toEqual([]);
    expect(report.verdict.passed).toBe(true);
    expect(report.kills.length).toBeGreaterThanOrEqual(5);
    // The middle kill is always the broker's: on this profile, the shop's Redis.
    expect(report.kills.map((k) => k.process)).toEqual(
      expect.arrayContaining(['postgres', 'redis']),
    );
    for (const kill of report.kills) expect(kill.restartedAfterMs, kill.process).not.toBeNull();
    expect(report.orders.acknowledged).toBeGreaterThan(20);
    expect(report.orders).toMatchObject({ lost: [], doubled: [], overdue: [] });
    expect(report.orders.terminal).toBe(report.orders.acknowledged);
    expect(report.streams.events).toBeGreaterThan(0);
    expect(existsSync(files.json)).toBe(true);
    expect(readFileSync(files.html, 'utf8')).toContain('postgres');
  }, 900_000);
});
