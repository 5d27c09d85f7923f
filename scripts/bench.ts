// `npm run bench`: what a Dapr hop and a token check cost, each against a baseline measured
// in the same run on the same machine. Not a CI gate: figures vary between machines, the
// ratios much less.
import { cpus } from 'node:os';
import { createTestTokens, startTestShop } from '@shop/devkit/testing';
import { createLogger, createServiceApp } from '@shop/platform';
import { formatRow, type LoadResult, runLoad } from './bench/load.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = 8;

function ratio(name: string, subject: LoadResult, baseline: LoadResult): string {
  return `${name.padEnd(44)} ${(subject.rps / baseline.rps).toFixed(2)}x throughput   p50 ${(subject.p50Ms / baseline.p50Ms).toFixed(2)}x   p99 ${(subject.p99Ms / baseline.p99Ms).toFixed(2)}x`;
}

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.versions.node}`,
);
console.log(
  `load: ${concurrency} closed-loop clients, ${seconds} s per case after 1 s of warm-up\n`,
);

const shop = await startTestShop({ daprLogLevel: 'error' });
try {
  const users = shop.apps.users;
  if (!users || !shop.gatewayUrl) throw new Error('the shop did not start users and the gateway');

  // 1. The Dapr hop: one service called directly, and through the gateway and two sidecars.
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

  // 2. Login at 8 concurrent clients, each its own account (one account hammered in parallel
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
      url: `${shop.gatewayUrl}/api/v1/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(accounts[client]),
    }),
    { concurrency, seconds },
  );

  console.log(formatRow('users, called directly (baseline)', direct));
  console.log(formatRow('gateway -> 2 sidecars -> users', viaDapr));
  console.log(formatRow('login via gateway (argon2id)', login));
  console.log();
  console.log(ratio('Dapr hop vs direct', viaDapr, direct));
  console.log(ratio('login vs bare hop', login, viaDapr));
} finally {
  await shop.stop();
}

// 3. One token verification against a bare request, in process, so only the work differs.
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
