import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { loadManifests, upstreamTable } from '@shop/devkit/manifests';
import { ensureDebianProgram, findRepoRoot } from '@shop/devkit/process';
import { startTestShop, type TestShop } from '@shop/devkit/testing';
import { isDaprOnlyPath, openApiDocumentPath } from '@shop/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The whole shop: the gateway merges the documents its services serve into one, and its
// /docs page renders that document in a real headless Chromium.
type Operation = { summary?: string; tags?: string[]; responses?: Record<string, unknown> };
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, Record<string, unknown>>;
};

const methods = ['get', 'put', 'post', 'delete', 'patch'];
const services = ['users', 'catalog', 'inventory', 'orders', 'payments', 'notifications', 'cart'];

let shop: TestShop;
let merged: Document;

// The gateway's route table as the manifests generate it: the first route whose segments a
// path starts with (`*` for any one) names the app the gateway sends it to.
const routes = upstreamTable(loadManifests(findRepoRoot()));
const publicAppOf = (path: string) =>
  routes.find(({ route }) => {
    const [want, have] = [route.split('/'), path.split('/')];
    return have.length >= want.length && want.every((s, i) => s === '*' || s === have[i]);
  })?.appId;

beforeAll(async () => {
  shop = await startTestShop();
  const res = await shop.gateway('/openapi.json');
  expect(res.status).toBe(200);
  merged = (await res.json()) as Document;
});

afterAll(async () => {
  await shop?.stop();
});

/** GET `url` on a connection opened for it and closed after it, never one left idle. */
function fetchOnNewConnection(url: string): Promise<{ status: number; headers: Headers }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (typeof value === 'string') headers.set(name, value);
      }
      resolve({ status: res.statusCode ?? 0, headers });
    }).on('error', reject);
  });
}

async function ownDocument(appId: string): Promise<Document> {
  const res = await shop.invoke(appId, openApiDocumentPath);
  expect(res.status, `${appId}'s own document`).toBe(200);
  return (await res.json()) as Document;
}

describe('the merged OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(merged.openapi).toBe('3.1.0');
    const result = await new Validator().validate(merged as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('holds every public route of every service, tagged with it, and nothing internal', async () => {
    const missing: string[] = [];
    let publicRoutes = 0;
    for (const appId of services) {
      const own = await ownDocument(appId);
      for (const [path, item] of Object.entries(own.paths)) {
        if (isDaprOnlyPath(path) || publicAppOf(path) !== appId) continue;
        for (const method of methods.filter((m) => item[m])) {
          publicRoutes++;
          const operation = merged.paths[path]?.[method];
          if (!operation) missing.push(`${appId}: ${method.toUpperCase()} ${path}`);
          else expect(operation.tags, `${method} ${path}`).toEqual([appId]);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(publicRoutes).toBeGreaterThanOrEqual(30);
    for (const path of Object.keys(merged.paths)) {
      expect(isDaprOnlyPath(path), path).toBe(false);
      expect(
        path.startsWith('/api/v1/') ||
          path === '/.well-known/jwks.json' ||
          ['/openapi.json', '/docs'].includes(path),
        path,
      ).toBe(true);
    }
    expect(merged.paths['/.well-known/jwks.json']?.get).toBeDefined();
    expect(merged.components?.securitySchemes?.bearer).toMatchObject({ scheme: 'bearer' });
  });

  it('declares the problem+json errors of every operation, the gateway’s own included', () => {
    for (const [path, item] of Object.entries(merged.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const statuses = Object.keys(operation.responses ?? {});
        expect(statuses, `${method} ${path}`).toContain('500');
        if (path.startsWith('/api/')) expect(statuses, `${method} ${path}`).toContain('504');
      }
    }
  });
});

describe('GET /docs', () => {
  it('renders the operations in a headless Chromium, every asset from the gateway', async () => {
    const chromium = ensureDebianProgram('chromium', 'chromium');
    const profile = mkdtempSync(join(tmpdir(), 'shop-chromium-'));
    try {
      const run = spawnSync(
        chromium,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          `--user-data-dir=${profile}`,
          // The page's console on stderr, where a CSP violation would show.
          '--enable-logging=stderr',
          '--v=0',
          // Let the page fetch /openapi.json and render before the DOM is taken.
          '--virtual-time-budget=15000',
          '--dump-dom',
          `${shop.gatewayUrl}/docs`,
        ],
        { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
      );
      const dom = run.stdout;
      if (process.env.SHOP_KEEP_TEST_DATA) {
        writeFileSync(join(tmpdir(), 'shop-docs.html'), dom);
        writeFileSync(join(tmpdir(), 'shop-docs.stderr'), run.stderr);
      }
      expect(dom, run.stderr.slice(-2_000)).toContain('Shop API');
      // Every operation is listed (by its summary, or its path where it has none).
      const unlisted = Object.entries(merged.paths).flatMap(([path, item]) =>
        Object.values(item)
          .map((operation) => operation.summary ?? path)
          .filter((title) => !dom.includes(`>${title}<`)),
      );
      expect(unlisted).toEqual([]);
      expect(run.stderr).not.toMatch(/Content Security Policy/);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }, 120_000);

  it('is answered with a CSP that allows only the gateway’s own scripts', async () => {
    // On a connection of its own: spawnSync above blocked this process for as long as
    // Chromium ran, so a keep-alive connection from before may have been closed by the
    // gateway (idle past its keep-alive timeout) without this side having seen it.
    const res = await fetchOnNewConnection(`${shop.gatewayUrl}/docs`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
