// `npm start`: the whole shop on this machine, every service beside its own daprd.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keptSecret, randomSecret } from '@shop/devkit/infra';
import { findRepoRoot } from '@shop/devkit/process';
import {
  appEnvFromPrefixed,
  brokerFromEnv,
  loadManifest,
  mergeAppEnv,
  type RunningShop,
  startShop,
  stateStoreFromEnv,
} from '@shop/devkit/shop';

const repoRoot = findRepoRoot();
const dataDir = process.env.SHOP_DATA_DIR ?? join(repoRoot, '.shop', 'data');
const gatewayPort = Number(process.env.GATEWAY_PORT ?? 8080);
const adminEmail = process.env.ADMIN_EMAIL ?? 'admin@shop.local';

const database = process.env.SHOP_DATABASE ?? 'postgres';

if (database !== 'postgres' && database !== 'pglite') {
  console.error(`shop: SHOP_DATABASE must be "postgres" or "pglite", not "${database}"`);
  process.exit(1);
}
// SHOP_BROKER picks components/<profile>/ and starts that broker privately; SHOP_STATE_STORE
// picks components/statestore/<profile>/. Both default to redis.
let broker: ReturnType<typeof brokerFromEnv>;
let stateStore: ReturnType<typeof stateStoreFromEnv>;
try {
  broker = brokerFromEnv();
  stateStore = stateStoreFromEnv();
} catch (error) {
  console.error(`shop: ${(error as Error).message}`);
  process.exit(1);
}
// SHOP_OBSERVABILITY=on (the default) runs Jaeger and Prometheus beside the shop.
const observability = process.env.SHOP_OBSERVABILITY ?? 'on';
if (observability !== 'on' && observability !== 'off') {
  console.error(`shop: SHOP_OBSERVABILITY must be "on" or "off", not "${observability}"`);
  process.exit(1);
}
// SHOP_TRACE_SAMPLING=0.1 keeps one trace in ten (the sidecars' and the services' samplers).
const traceSampling = process.env.SHOP_TRACE_SAMPLING;
const sampling =
  traceSampling === undefined || traceSampling === '' ? undefined : Number(traceSampling);
if (sampling !== undefined && !(sampling >= 0 && sampling <= 1)) {
  console.error(`shop: SHOP_TRACE_SAMPLING must be a share from 0 to 1, not "${traceSampling}"`);
  process.exit(1);
}
if (!Number.isInteger(gatewayPort) || gatewayPort < 1 || gatewayPort > 65_535) {
  console.error(`shop: GATEWAY_PORT must be a port number, not "${process.env.GATEWAY_PORT}"`);
  process.exit(1);
}

// SHOP_HEAL=on (the default): a process that dies is restarted with backoff, and only a
// crash loop stops the shop; off, any unexpected exit stops everything as before.
const heal = process.env.SHOP_HEAL ?? 'on';
if (heal !== 'on' && heal !== 'off') {
  console.error(`shop: SHOP_HEAL must be "on" or "off", not "${heal}"`);
  process.exit(1);
}

/** `--replicas N` (or `--replicas=N`), else SHOP_REPLICAS, else 1: every service runs N times. */
function replicaCount(): number {
  const args = process.argv.slice(2);
  const at = args.findIndex((arg) => arg === '--replicas' || arg.startsWith('--replicas='));
  const given = at < 0 ? process.env.SHOP_REPLICAS : (args[at]?.split('=')[1] ?? args[at + 1]);
  if (given === undefined || given === '') return 1;
  const count = Number(given);
  if (!Number.isInteger(count) || count < 1 || count > 4) {
    console.error(
      `shop: --replicas (SHOP_REPLICAS) must be a whole number from 1 to 4, not "${given}"`,
    );
    process.exit(1);
  }
  return count;
}
const replicas = replicaCount();

function daprLogLevel(value: string | undefined) {
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  return levels.find((level) => level === value) ?? 'error';
}

/**
 * ADMIN_PASSWORD, or one generated on the first start and kept in the data folder: the
 * account keeps its first password, so printing a new one each start would be a lie.
 */
function adminPassword(): { password: string; generatedIn?: string } {
  if (process.env.ADMIN_PASSWORD) return { password: process.env.ADMIN_PASSWORD };
  const file = join(dataDir, 'admin-password');
  return { password: keptSecret(file, () => randomSecret(12)), generatedIn: file };
}

/**
 * Prints the generated admin password only once a login proves it is the account's: an
 * account registered under that email before would keep its own password.
 */
async function announceAdmin(gatewayUrl: string): Promise<void> {
  const res = await fetch(`${gatewayUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: adminEmail, password: admin.password }),
  }).catch(() => undefined);
  if (res?.ok) {
    console.log(
      `shop: admin ${adminEmail} has the password ${admin.password} (kept in ${admin.generatedIn})`,
    );
  } else {
    console.log(
      `shop: admin ${adminEmail} exists with another password than the one in ${admin.generatedIn}`,
    );
  }
}

/**
 * One supervisor per data folder: a second would open the same database and Redis files. A lock left by a supervisor that no longer runs is taken over.
 */
function lockDataFolder(): void {
  mkdirSync(dataDir, { recursive: true });
  const lock = join(dataDir, 'supervisor.pid');
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const holder = Number(readFileSync(lock, 'utf8'));
      if (isRunning(holder)) {
        console.error(
          `shop: another npm start (pid ${holder}) is using ${dataDir}; stop it or set SHOP_DATA_DIR`,
        );
        process.exit(1);
      }
      // Stale: remove it and race for it again, so two starts cannot both take it over.
      rmSync(lock, { force: true });
    }
  }
  process.once('exit', () => rmSync(lock, { force: true }));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// SHOP_<APP>_<NAME> and SHOP_ALL_<NAME> set a service's own variables, as the chart's values
// do in a cluster; the names (not the values, which may be secrets) are shown.
const appIds = loadManifest(repoRoot).apps.map((app) => app.appId);
const userAppEnv = appEnvFromPrefixed(process.env, appIds);
for (const [appId, variables] of Object.entries(userAppEnv)) {
  console.log(`shop: ${appId} gets ${Object.keys(variables).sort().join(', ')}`);
}

lockDataFolder();
const started = Date.now();
const admin = adminPassword();
const starting = new AbortController();
let startup: Promise<RunningShop> | undefined;

// Signals are handled from the first moment: Ctrl-C during a slow start aborts it, and an
// aborted start stops whatever it had started, in order, before it settles.
let stopping = false;
const stop = async (signal: string) => {
  // A second Ctrl-C does not wait for the orderly stop: every child is killed at exit.
  if (stopping) process.exit(130);
  stopping = true;
  console.log(`shop: ${signal} received, stopping ...`);
  starting.abort();
  const shop = await startup?.catch(() => undefined);
  await shop?.stop();
  console.log('shop: stopped');
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void stop(signal));
}

startup = startShop({
  repoRoot,
  dataDir,
  gatewayPort,
  database,
  broker,
  stateStore,
  observability: observability === 'on',
  ...(sampling !== undefined && { traceSampling: sampling }),
  output: 'console',
  // daprd's warnings at start (no mTLS, no placement, no scheduler) are expected here.
  daprLogLevel: daprLogLevel(process.env.SHOP_DAPR_LOG_LEVEL),
  // Only users needs the admin's credentials.
  appEnv: mergeAppEnv(userAppEnv, {
    users: { ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: admin.password },
  }),
  // Each service and its sidecar run `replicas` times, as a Deployment's replicas would.
  ...(replicas > 1 && {
    replicas: Object.fromEntries(appIds.map((appId) => [appId, replicas])),
  }),
  heal: heal === 'on',
  signal: starting.signal,
  onCrash: () => process.exit(1),
});

/** With replicas, where the other gateways answer: the same shop behind each of them. */
function announceReplicas(shop: RunningShop): void {
  if (replicas < 2) return;
  const gateways = Object.values(shop.apps)
    .filter((app) => app.appId === 'gateway' && app.instance !== 'gateway')
    .map((app) => `http://127.0.0.1:${app.appPort}`);
  console.log(
    `shop: every service runs ${replicas} times; more gateways at ${gateways.join(', ')}`,
  );
}

try {
  const shop = await startup;
  if (admin.generatedIn) await announceAdmin(`${shop.gatewayUrl}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`shop: ready in ${seconds}s at ${shop.gatewayUrl} (Ctrl-C stops everything)`);
  announceReplicas(shop);
  console.log(
    `shop: events go through ${broker} (SHOP_BROKER), caches through ${stateStore} (SHOP_STATE_STORE)`,
  );
  if (shop.jaeger) console.log(`shop: jaeger at ${shop.jaeger.queryUrl}`);
  if (shop.prometheus) console.log(`shop: prometheus at ${shop.prometheus.url}`);
  if (shop.mailpit) {
    console.log(
      `shop: mail sent by the shop is caught by a private mailpit: ${shop.mailpit.apiUrl}/api/v1/messages (JSON; one mail: /api/v1/message/<ID>)`,
    );
  }
} catch (error) {
  if (!stopping) {
    console.error(`shop: ${(error as Error).message}`);
    process.exit(1);
  }
}
