// `npm run bench`: the whole shop's memory at idle on each embedded database, and what a
// Dapr hop, a login, live notification streams, the catalog's reads and searches, inventory's reservations and a token
// check cost, each against a baseline measured in the same run on the same machine; then the
// checkout load per broker profile and observability's budget (memory with Jaeger and
// Prometheus on, and what tracing costs a checkout). Not a CI gate: figures vary between
// machines, the ratios much less.
//
// Settings (environment):
//   BENCH_SECTIONS          which sections run, comma-separated: shop (1-7: memory at idle and
//                           the load cases on one shop), tokens (8), brokers (9),
//                           observability (10); default every one
//   BENCH_SECONDS           seconds per closed-loop load case (5)
//   BENCH_IDLE_SECONDS      seconds a fresh shop idles before its memory is read (10)
//   BENCH_STREAMS           live notification streams opened at once (1000)
//   BENCH_CHECKOUT_RATES    checkout rates stepped through, per second (10,20,30,50,70,100)
//   BENCH_CHECKOUT_SECONDS  seconds per checkout step (5)
//   BENCH_BROKERS           broker profiles benched (every one)
//   BENCH_BROKER_RATES      checkout rates stepped through per broker (10,15,20,25,30)
//   BENCH_TRACING_RATE      checkouts/s on each of the two shops at once, tracing off and on (8)
//   BENCH_TRACING_SECONDS   seconds of each such step (10)
//   BENCH_TRACING_ROUNDS    how many such steps (3)
import { cpus, totalmem } from 'node:os';
import { createTestTokens, type TestShop } from '@shop/devkit/testing';
import { createLogger, createServiceApp } from '@shop/platform';
import { benchBrokers, benchedProfiles, formatBrokers } from './bench/brokers.ts';
import { benchReads, benchReservations, seedProducts } from './bench/catalog.ts';
import { benchCheckouts, formatCheckouts } from './bench/checkout.ts';
import { formatRow, type LoadResult, runLoad } from './bench/load.ts';
import { formatMemory, measureMemory } from './bench/memory.ts';
import {
  benchObservability,
  formatObservability,
  observabilityOptionsFromEnv,
} from './bench/observability.ts';
import { benchAdmin as admin, numberList, startBenchShop } from './bench/shop.ts';
import { benchStreams, formatStreams } from './bench/streams.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = 8;
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const refusalSamples = 40;
const catalogProducts = 10_000;
const checkoutRates = numberList(process.env.BENCH_CHECKOUT_RATES ?? '10,20,30,50,70,100');
const checkoutSeconds = Number(process.env.BENCH_CHECKOUT_SECONDS ?? 5);
const sections = new Set(
  (process.env.BENCH_SECTIONS ?? 'shop,tokens,brokers,observability')
    .split(',')
    .map((name) => name.trim()),
);
for (const name of sections)
  if (!['shop', 'tokens', 'brokers', 'observability'].includes(name))
    throw new Error(`BENCH_SECTIONS: no section ${name} (shop, tokens, brokers, observability)`);

/** Median time users takes to refuse a wrong password and an unknown email, alternating. */
async function timeRefusals(
  shop: TestShop,
  accounts: Array<{ email: string }>,
): Promise<{ wrongMs: number; unknownMs: number }> {
  const refuse = async (email: string, attempt: number) => {
    const started = performance.now();
    const res = await shop.invoke('users', '/api/v1/auth/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': `198.18.${attempt >> 8}.${attempt & 255}`,
      },
      body: JSON.stringify({ email, password: 'not the password' }),
    });
    await res.body?.cancel();
    if (res.status !== 401) throw new Error(`a wrong login answered ${res.status}, not 401`);
    return performance.now() - started;
  };
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < refusalSamples; i++) {
    const account = accounts[i % accounts.length] as { email: string };
    wrong.push(await refuse(account.email, 2 * i));
    unknown.push(await refuse(`nobody-${i}@example.com`, 2 * i + 1));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return { wrongMs: median(wrong), unknownMs: median(unknown) };
}

function ratio(name: string, subject: LoadResult, baseline: LoadResult): string {
  return `${name.padEnd(44)} ${(subject.rps / baseline.rps).toFixed(2)}x throughput   p50 ${(subject.p50Ms / baseline.p50Ms).toFixed(2)}x   p99 ${(subject.p99Ms / baseline.p99Ms).toFixed(2)}x`;
}

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}`,
);
console.log(
  `load: ${concurrency} closed-loop clients, ${seconds} s per case after 1 s of warm-up\n`,
);

if (sections.has('shop')) {
  // 1. Memory at idle, the whole shop, on each embedded database. The load cases below run
  // on the last one, the default.
  const gib = 1024;
  let shop: TestShop | undefined;
  for (const database of ['pglite', 'postgres'] as const) {
    shop = await startBenchShop({ postgres: database === 'postgres' });
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const rows = measureMemory(shop.group);
    console.log(`memory at idle, ${idleSeconds} s after start, embedded ${database} (PSS):`);
    console.log(formatMemory(rows));
    const total = rows.reduce((sum, row) => sum + row.pssMiB, 0);
    const services = Object.keys(shop.apps).length;
    console.log(
      `  the whole shop, ${services} services: ${(total / gib).toFixed(2)} GiB, ${total < 1.2 * gib ? 'under' : 'over'} the 1.2 GiB bound\n`,
    );
    if (database === 'pglite') {
      await shop.stop();
      shop = undefined;
    }
  }
  if (!shop) throw new Error('no shop to load');

  try {
    const users = shop.apps.users;
    if (!users || !shop.gatewayUrl) throw new Error('the shop did not start users and the gateway');

    // 2. The Dapr hop: one service called directly, and through the gateway and two sidecars.
    const direct = await runLoad(
      {
        url: `http://127.0.0.1:${users.appPort}/.well-known/jwks.json`,
        headers: { 'dapr-api-token': users.appApiToken },
      },
      { concurrency, seconds },
    );
    const viaDapr = await runLoad(
      { url: `${shop.gatewayUrl}/.well-known/jwks.json` },
      { concurrency, seconds },
    );

    // 3. Login at 8 concurrent clients, each its own account (one account hammered in parallel
    // from one address is what the login throttle is there to stop), against the bare hop.
    const accounts = Array.from({ length: concurrency }, (_, i) => ({
      email: `bench-${i}@example.com`,
      password: 'correct horse battery',
    }));
    for (const account of accounts) {
      const registered = await shop.gateway('/api/v1/auth/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...account, name: 'Bench' }),
      });
      if (registered.status !== 201) throw new Error(`registration failed: ${registered.status}`);
    }
    const login = await runLoad(
      (client) => ({
        url: `${shop?.gatewayUrl}/api/v1/auth/login`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(accounts[client]),
      }),
      { concurrency, seconds },
    );

    // 4. An unknown email must cost what a wrong password costs (the decoy hash), or timing
    // tells which emails have accounts. One client, alternating, through the gateway's sidecar
    // as the gateway would call users, each attempt from its own address so the throttle stays out.
    const refusal = await timeRefusals(shop, accounts);

    console.log(formatRow('users, called directly (baseline)', direct));
    console.log(formatRow('gateway -> 2 sidecars -> users', viaDapr));
    console.log(formatRow('login via gateway (argon2id)', login));
    console.log();
    console.log(ratio('Dapr hop vs direct', viaDapr, direct));
    console.log(ratio('login vs bare hop', login, viaDapr));
    console.log();
    console.log(
      `${'login refused, wrong password'.padEnd(44)} median ${refusal.wrongMs.toFixed(1).padStart(7)} ms`,
    );
    console.log(
      `${'login refused, unknown email'.padEnd(44)} median ${refusal.unknownMs.toFixed(1).padStart(7)} ms`,
    );
    console.log(
      `${'unknown email vs wrong password'.padEnd(44)} ${(refusal.unknownMs / refusal.wrongMs).toFixed(2)}x the time`,
    );

    // 4b. Live notification streams (services/notifications/src/stream): 1,000 open through
    // the gateway, one notification each from a published order.confirmed; publish -> arrival
    // against the bare hop, and memory per open stream on its four processes.
    const streamed = await benchStreams(shop, {
      streams: Number(process.env.BENCH_STREAMS ?? 1_000),
    });
    console.log();
    console.log(formatStreams(streamed, viaDapr.p99Ms));

    // 5. The catalog: a product read served from the Dapr state store (hit) and from the
    // database (miss), and a ranked search over 10,000 products, against the bare hop.
    const ids = await seedProducts(shop, catalogProducts);
    const reads = await benchReads(shop, ids, { concurrency, seconds });
    console.log();
    console.log(formatRow('product read, cache hit', reads.hit));
    console.log(formatRow('product read, cache miss', reads.miss));
    console.log(formatRow(`search over ${catalogProducts} products`, reads.search));
    console.log(ratio('cache hit vs bare hop', reads.hit, viaDapr));
    console.log(ratio('cache miss vs bare hop', reads.miss, viaDapr));
    console.log(ratio('search vs bare hop', reads.search, viaDapr));

    // 6. Reservations: one-unit orders published at once, until inventory has placed them all.
    const adminToken = await shop.login(admin.email, admin.password);
    const reserved = await benchReservations(shop, adminToken, { products: 10, orders: 1_000 });
    console.log();
    console.log(
      `${'reservations (order.created -> reserved)'.padEnd(44)} ${reserved.perSecond.toFixed(0).padStart(7)} orders/s   ${reserved.orders} in ${reserved.seconds.toFixed(1)} s`,
    );

    // 7. Checkouts at a constant arrival rate (open model: vegeta sends on schedule whatever
    // the answers), stepped up; the 202's latency and the time to each order's terminal state,
    // read from the orders afterwards, against the bare hop. The reservations above leave a
    // cascade of events for orders nobody placed; it settles first.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const checkouts = await benchCheckouts(shop, admin, {
      rates: checkoutRates,
      seconds: checkoutSeconds,
    });
    console.log();
    console.log(
      `checkouts: vegeta at a constant arrival rate, ${checkoutSeconds} s per step, one unit of one of 10 products each, pm_card_visa; bound: 0 errors and p99 202->terminal <= 1 s`,
    );
    console.log(formatCheckouts(checkouts, viaDapr.p99Ms));
  } finally {
    await shop.stop();
  }
}

// 8. One token verification against a bare request, in process, so only the work differs.
if (sections.has('tokens')) {
  const tokens = await createTestTokens();
  const token = await tokens.issue('00000000-0000-4000-8000-000000000000');
  const bare = createServiceApp({
    service: 'bench',
    logger: createLogger({ service: 'bench', write: () => {} }),
    appApiToken: 'bench-app-token-0123456789',
  });
  const perSecond = async (work: () => Promise<unknown>) => {
    for (let i = 0; i < 2_000; i++) await work();
    const rounds = 20_000;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) await work();
    return (rounds / (performance.now() - started)) * 1000;
  };
  const bareRate = await perSecond(async () => bare.request('/healthz'));
  const verifyRate = await perSecond(() => tokens.verifier.verify(token));
  console.log();
  console.log(
    `${'bare in-process request (baseline)'.padEnd(44)} ${bareRate.toFixed(0).padStart(7)} ops/s   ${(1e6 / bareRate).toFixed(1)} µs each`,
  );
  console.log(
    `${'EdDSA access-token verification'.padEnd(44)} ${verifyRate.toFixed(0).padStart(7)} ops/s   ${(1e6 / verifyRate).toFixed(1)} µs each`,
  );
  console.log(
    `${'verification vs bare request'.padEnd(44)} ${(bareRate / verifyRate).toFixed(2)}x the time`,
  );
}

// 9. The same checkout load on each broker profile (components/<profile>/), each on a
// fresh shop, as ratios to Redis: the highest rate sustained within the bound, and the
// broker's memory at idle.
if (sections.has('brokers')) {
  const brokerRows = await benchBrokers({
    profiles: benchedProfiles(),
    rates: numberList(process.env.BENCH_BROKER_RATES ?? '10,15,20,25,30'),
    seconds: checkoutSeconds,
    idleSeconds,
  });
  console.log();
  console.log(
    `checkouts per broker profile: the highest of the rates that met the bound above, and the broker's PSS ${idleSeconds} s after start`,
  );
  console.log(formatBrokers(brokerRows));
}

// 10. Observability's budget (issue 18): fresh shops of the same shape with observability off
// and on: the whole shop's memory at idle against 1.2 and 1.5 GiB, and what tracing at full
// sampling costs a checkout against 10% (see bench/observability.ts for how).
if (sections.has('observability')) {
  const options = observabilityOptionsFromEnv();
  const budget = await benchObservability(options);
  console.log();
  console.log(formatObservability(budget, options));
}
