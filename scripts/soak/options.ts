// The soak's command line: every option has a default, and a bad value is refused by name.
import { parseArgs } from 'node:util';
import { brokerProfiles } from '@shop/devkit/brokers';
import { defaultMix } from './mix.ts';

export const usage = `npm run soak -- [options]
npm run soak -- table <report.json>...   the README's table of earlier runs
  --minutes N        how long the load runs (default 10)
  --rate N           requests a second, held constant (default 20)
  --mix a=0.3,b=0.7  shares of the operations (default: ${Object.entries(defaultMix)
    .map(([op, share]) => `${op}=${share}`)
    .join(',')})
  --broker NAME      ${brokerProfiles.join(', ')} (default: SHOP_BROKER, else redis)
  --state-store NAME redis or postgresql (default: SHOP_STATE_STORE, else redis)
  --replicas N       every service and its sidecar N times, 1 to 4 (default 1)
  --chaos            kill -9 a random process of the shop every --chaos-every seconds
  --chaos-every N    seconds between kills (default 30)
  --seed N           the seed of every random choice (default: the time; printed)
  --shoppers N       registered shoppers (default 100); --streams N hold a live stream (default 10)
  --order-ttl N      orders' expiry in seconds, within which each must settle (default 180)
  --out DIR          where report.html and report.json go (default .shop/soak/<time>-<broker>)
  --keep-data        keep the shop's data and logs even when the run passed`;

function count(
  name: string,
  value: string | undefined,
  fallback: number,
  range: [number, number],
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < range[0] || parsed > range[1])
    throw new Error(`--${name} must be a number from ${range[0]} to ${range[1]}, not "${value}"`);
  return parsed;
}

/** `browse=0.3,search=0.7` as shares that sum to 1; an unknown operation is refused. */
export function parseMix(value: string): Record<string, number> {
  const entries = value.split(',').map((pair) => {
    const [op = '', share = ''] = pair.split('=');
    if (!(op in defaultMix)) throw new Error(`--mix: unknown operation "${op}"`);
    const weight = Number(share);
    if (!(weight >= 0)) throw new Error(`--mix: the share of ${op} must be a number ≥ 0`);
    return [op, weight] as const;
  });
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  if (total <= 0) throw new Error('--mix: the shares must not all be 0');
  return Object.fromEntries(entries.map(([op, weight]) => [op, weight / total]));
}

export function parseSoakArgs(argv: string[], defaults: { broker: string; stateStore: string }) {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      rate: { type: 'string' },
      mix: { type: 'string' },
      broker: { type: 'string' },
      'state-store': { type: 'string' },
      replicas: { type: 'string' },
      chaos: { type: 'boolean' },
      'chaos-every': { type: 'string' },
      seed: { type: 'string' },
      shoppers: { type: 'string' },
      streams: { type: 'string' },
      'order-ttl': { type: 'string' },
      out: { type: 'string' },
      'keep-data': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const broker = values.broker ?? defaults.broker;
  if (!(brokerProfiles as readonly string[]).includes(broker))
    throw new Error(`--broker must be one of ${brokerProfiles.join(', ')}, not "${broker}"`);
  const stateStore = values['state-store'] ?? defaults.stateStore;
  if (stateStore !== 'redis' && stateStore !== 'postgresql')
    throw new Error(`--state-store must be redis or postgresql, not "${stateStore}"`);
  const shoppers = count('shoppers', values.shoppers, 100, [1, 2_000]);
  return {
    help: values.help ?? false,
    minutes: count('minutes', values.minutes, 10, [0.25, 24 * 60]),
    rate: count('rate', values.rate, 20, [1, 2_000]),
    mix: values.mix ? parseMix(values.mix) : defaultMix,
    broker,
    stateStore,
    replicas: Math.round(count('replicas', values.replicas, 1, [1, 4])),
    chaosEverySeconds: values.chaos
      ? count('chaos-every', values['chaos-every'], 30, [2, 3_600])
      : null,
    seed: Math.round(count('seed', values.seed, Date.now() % 2 ** 31, [0, 2 ** 31])),
    shoppers,
    streams: Math.min(shoppers, count('streams', values.streams, 10, [0, 500])),
    orderTtlSeconds: count('order-ttl', values['order-ttl'], 180, [30, 3_600]),
    out: values.out,
    keepData: values['keep-data'] ?? false,
  };
}
