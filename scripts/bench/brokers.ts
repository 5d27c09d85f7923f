// The same checkout load on every broker profile, in one run, as ratios to the Redis
// profile: the highest arrival rate each sustains within the bound (0 errors, p99 from 202
// to terminal <= 1 s), and the broker's own memory at idle. Each profile gets a fresh shop,
// started and loaded the same way, so only the broker differs. Run directly:
//   node scripts/bench/brokers.ts            (every profile)
//   BENCH_BROKERS=redis,nats node scripts/bench/brokers.ts
import { type BrokerProfile, brokerProfiles, isBrokerProfile } from '@shop/devkit/brokers';
import { benchCheckouts, type CheckoutStep, meetsBound } from './checkout.ts';
import { measureMemory } from './memory.ts';
import { benchAdmin, numberList, startBenchShop } from './shop.ts';

export type BrokerRow = {
  profile: BrokerProfile;
  /** PSS of the broker's processes at idle (the shop's Redis for the redis profile). */
  brokerMiB: number;
  /** The highest rate of the steps that met the bound; 0 when none did. */
  sustained: number;
  /** The 202 -> terminal p99 at that rate. */
  terminalP99Ms: number;
  steps: CheckoutStep[];
};

export async function benchBrokers(options: {
  profiles: BrokerProfile[];
  rates: number[];
  seconds: number;
  idleSeconds: number;
}): Promise<BrokerRow[]> {
  const rows: BrokerRow[] = [];
  for (const profile of options.profiles) {
    const shop = await startBenchShop({ broker: profile });
    try {
      await new Promise((resolve) => setTimeout(resolve, options.idleSeconds * 1000));
      const brokerNames = profile === 'redis' ? ['redis'] : shop.broker.processNames;
      const brokerMiB = measureMemory(shop.group)
        .filter((row) => brokerNames.includes(row.name))
        .reduce((sum, row) => sum + row.pssMiB, 0);
      const steps = await benchCheckouts(shop, benchAdmin, {
        rates: options.rates,
        seconds: options.seconds,
      });
      const best = steps.filter(meetsBound).at(-1);
      rows.push({
        profile,
        brokerMiB,
        sustained: best?.rate ?? 0,
        terminalP99Ms: best?.terminalP99Ms ?? Number.NaN,
        steps,
      });
    } finally {
      await shop.stop();
    }
  }
  return rows;
}

export function formatBrokers(rows: BrokerRow[]): string {
  const base = rows.find((row) => row.profile === 'redis') ?? rows[0];
  const lines = [
    `${'broker'.padEnd(10)} ${'checkouts/s'.padStart(12)} ${'vs redis'.padStart(9)} ${'p99 202->terminal'.padStart(18)} ${'broker PSS idle'.padStart(16)} ${'vs redis'.padStart(9)}`,
  ];
  for (const row of rows) {
    const rateRatio = base && base.sustained > 0 ? row.sustained / base.sustained : Number.NaN;
    const memoryRatio = base && base.brokerMiB > 0 ? row.brokerMiB / base.brokerMiB : Number.NaN;
    lines.push(
      `${row.profile.padEnd(10)} ${String(row.sustained).padStart(12)} ${`${rateRatio.toFixed(2)}x`.padStart(9)} ${`${row.terminalP99Ms.toFixed(0)} ms`.padStart(18)} ${`${row.brokerMiB.toFixed(0)} MiB`.padStart(16)} ${`${memoryRatio.toFixed(1)}x`.padStart(9)}`,
    );
  }
  return lines.join('\n');
}

/** The profiles BENCH_BROKERS names (comma-separated), every one when unset. */
export function benchedProfiles(value = process.env.BENCH_BROKERS): BrokerProfile[] {
  if (!value) return [...brokerProfiles];
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !isBrokerProfile(name));
  if (unknown.length > 0) throw new Error(`BENCH_BROKERS: unknown profiles ${unknown.join(', ')}`);
  return names as BrokerProfile[];
}

if (import.meta.main) {
  const rows = await benchBrokers({
    profiles: benchedProfiles(),
    rates: numberList(process.env.BENCH_CHECKOUT_RATES ?? '10,15,20,25,30'),
    seconds: Number(process.env.BENCH_CHECKOUT_SECONDS ?? 5),
    idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 10),
  });
  console.log(formatBrokers(rows));
}
