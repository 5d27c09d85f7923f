// `npm run invariants`: checks DESIGN.md's invariants 1–5 against a running shop through its
// gateway's admin APIs, prints every violation, and exits 1 if there is any. Logs in as
// ADMIN_EMAIL (default admin@shop.local) with ADMIN_PASSWORD, or with the password `npm start`
// generated into <data folder>/admin-password. Run it while the shop is quiet.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@shop/devkit/process';
import { checkInvariants } from '@shop/devkit/testing';

const baseUrl = (process.env.SHOP_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const email = process.env.ADMIN_EMAIL ?? 'admin@shop.local';
const orderTtlSeconds = Number(process.env.ORDER_TTL_SECONDS ?? 900);

function adminPassword(): string {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD;
  const dataDir = process.env.SHOP_DATA_DIR ?? join(findRepoRoot(), '.shop', 'data');
  const file = join(dataDir, 'admin-password');
  if (!existsSync(file)) {
    console.error(`invariants: set ADMIN_PASSWORD, or start the shop once so ${file} exists`);
    process.exit(2);
  }
  return readFileSync(file, 'utf8').trim();
}

const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email, password: adminPassword() }),
});
if (!login.ok) {
  console.error(`invariants: login as ${email} at ${baseUrl} failed: ${login.status}`);
  process.exit(2);
}
const { accessToken } = (await login.json()) as { accessToken: string };

const violations = await checkInvariants({ baseUrl, adminToken: accessToken }, { orderTtlSeconds });
for (const violation of violations) {
  console.log(
    `invariant ${violation.invariant}: ${violation.message} [${violation.ids.join(', ')}]`,
  );
}
console.log(violations.length === 0 ? 'invariants hold' : `${violations.length} violation(s)`);
process.exit(violations.length === 0 ? 0 : 1);
