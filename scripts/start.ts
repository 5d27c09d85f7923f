// `npm start`: the whole shop on this machine, every service beside its own daprd.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { findRepoRoot, startShop } from '@shop/platform/supervisor';

const repoRoot = findRepoRoot();
const gatewayPort = Number(process.env.GATEWAY_PORT ?? 8080);
const adminEmail = process.env.ADMIN_EMAIL ?? 'admin@shop.local';
const adminPassword = process.env.ADMIN_PASSWORD ?? randomBytes(12).toString('base64url');

if (!Number.isInteger(gatewayPort) || gatewayPort < 1 || gatewayPort > 65_535) {
  console.error(`shop: GATEWAY_PORT must be a port number, not "${process.env.GATEWAY_PORT}"`);
  process.exit(1);
}

function daprLogLevel(value: string | undefined) {
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  return levels.find((level) => level === value) ?? 'error';
}

const started = Date.now();
try {
  const shop = await startShop({
    repoRoot,
    dataDir: process.env.SHOP_DATA_DIR ?? join(repoRoot, '.shop', 'data'),
    gatewayPort,
    output: 'console',
    // daprd's warnings at start (no mTLS, no placement, no scheduler) are expected here.
    daprLogLevel: daprLogLevel(process.env.SHOP_DAPR_LOG_LEVEL),
    env: { ADMIN_EMAIL: adminEmail, ADMIN_PASSWORD: adminPassword },
    onCrash: () => process.exit(1),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`shop: ${signal} received, stopping ...`);
    await shop.stop();
    console.log('shop: stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));

  if (!process.env.ADMIN_PASSWORD) {
    console.log(`shop: admin ${adminEmail} has the generated password ${adminPassword}`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`shop: ready in ${seconds}s at ${shop.gatewayUrl} (Ctrl-C stops everything)`);
} catch (error) {
  console.error(`shop: ${(error as Error).message}`);
  process.exit(1);
}
