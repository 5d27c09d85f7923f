// What the services' code invokes through Dapr, read from the code itself.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifests, upstreamTable } from '@shop/devkit/manifests';
import { openApiDocumentPath } from '@shop/platform';
import { jwksPath } from '@shop/platform/auth';
import { expect } from 'vitest';
import { repoRoot } from './chart.ts';
import { type Call, sampleId } from './hardening.ts';

/**
 * The gateway's route table as `npm run manifests` generates it from the services'
 * manifests (services/gateway/src/proxy/upstreams.generated.ts, kept in step by the
 * manifests drift test), read without importing the gateway's source.
 */
export const gatewayUpstreams = upstreamTable(loadManifests(repoRoot));

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    const isSource = entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts');
    return isSource && entry.name !== 'test-support.ts' ? [path] : [];
  });
}

/** A string or template literal's text, `${...}` as the sample id; undefined for anything else. */
function literal(text: string): string | undefined {
  const match = /^(['"`])([\s\S]*)\1$/.exec(text.trim());
  return match?.[2]?.replace(/\$\{[^}]*\}/g, sampleId);
}

/** The app the token verifier fetches its JWKS from, by default (JWKS_APP_ID). */
function jwksApp(): string {
  const platformConfig = readFileSync(join(repoRoot, 'packages/platform/src/config.ts'), 'utf8');
  const app = /JWKS_APP_ID: z\.string\(\)\.min\(1\)\.default\('([a-z-]+)'\)/.exec(
    platformConfig,
  )?.[1];
  expect(app, 'JWKS_APP_ID default in packages/platform/src/config.ts').toBeTruthy();
  const jwksSource = readFileSync(
    join(repoRoot, 'packages/platform/src/auth/jwks-via-dapr.ts'),
    'utf8',
  );
  expect(jwksSource).toMatch(/invoke\(appId, jwksPath, \{\s*method: 'GET'/);
  return app as string;
}

/**
 * The platform's client of catalog's batch read (catalogViaDapr), as its source spells the
 * call: a service that builds one invokes exactly this.
 */
function catalogBatchCall(): Omit<Call, 'caller' | 'where'> {
  const source = readFileSync(join(repoRoot, 'packages/platform/src/clients/catalog.ts'), 'utf8');
  const match = /invoke\(options\.appId \?\? '([a-z-]+)', '([^']+)', \{\s*method: '([A-Z]+)'/.exec(
    source,
  );
  expect(match, 'the invocation in packages/platform/src/clients/catalog.ts').toBeTruthy();
  const [, callee = '', path = '', verb = ''] = match ?? [];
  return { callee, path, verb };
}

/** One `.invoke(appId, path, { method })` call's parts, as far as the code spells them. */
function readInvocation(text: string, match: RegExpMatchArray) {
  const [, appArg = '', pathArg = '', options = ''] = match;
  let callee = literal(appArg);
  if (!callee && /^[A-Za-z_$][\w$]*$/.test(appArg)) {
    // An identifier with a literal default in the same file: `appId = 'catalog'`.
    callee = new RegExp(`\\b${appArg}\\s*=\\s*'([a-z-]+)'`).exec(text)?.[1];
  }
  const path = literal(pathArg)?.split('?')[0];
  const verb = /\bmethod:\s*'([A-Z]+)'/.exec(options)?.[1];
  return { callee, path, verb };
}

/**
 * The invocations of one source file of `service`; the gateway's (dynamic by design) only
 * add the apps they reach to `gatewayCallees`.
 */
function invocationsInFile(
  service: string,
  file: string,
  jwks: string,
  gatewayCallees: Set<string>,
): Call[] {
  const text = readFileSync(file, 'utf8');
  const where = file.slice(repoRoot.length + 1);
  const other = /(?<![.\w])invoke\(|\/v1\.0\/invoke\//.exec(text);
  if (other && service !== 'gateway') {
    throw new Error(`${where}: an invocation this test cannot read (${other[0]}); teach it`);
  }
  const calls: Call[] = [];
  if (/\btokenVerifierViaDapr\(/.test(text)) {
    calls.push({ caller: service, callee: jwks, verb: 'GET', path: jwksPath, where });
  }
  if (/\bcatalogViaDapr\(/.test(text))
    calls.push({ caller: service, ...catalogBatchCall(), where });
  for (const match of text.matchAll(/\.invoke\(\s*([^,]+?)\s*,\s*([^,]+?)\s*,\s*\{([^}]*)/g)) {
    const { callee, path, verb } = readInvocation(text, match);
    if (service === 'gateway') {
      if (callee) gatewayCallees.add(callee);
      continue;
    }
    if (!callee || !path || !verb) {
      throw new Error(
        `${where}: cannot read the invocation ${match[0].slice(0, 80)}... (app id, path and method); make it literal or teach this test`,
      );
    }
    calls.push({ caller: service, callee, verb, path, where });
  }
  return calls;
}

/** The gateway's callees: every public route's app and the app of every GraphQL upstream call. */
function addGatewayCallees(gatewayCallees: Set<string>): void {
  // Every public route's app is also an OpenAPI document's source.
  for (const { appId } of gatewayUpstreams) gatewayCallees.add(appId);
  for (const file of sourceFiles(join(repoRoot, 'services/gateway/src/graphql'))) {
    const text = readFileSync(file, 'utf8');
    for (const [, appId] of text.matchAll(/\bupstream(?:<[^>(]*>)?\(\s*'([a-z-]+)'/g))
      gatewayCallees.add(appId as string);
  }
}

/**
 * Every Dapr service invocation in services/*\/src, read from the code: the token
 * verifier's JWKS fetch (every service but users builds one), the platform's catalog
 * batch client where a service builds one, and each `.invoke(appId,
 * path, { method })` call. The gateway's calls take their app id and path from requests
 * (a proxy, its GraphQL resolvers, the OpenAPI merge), so only the apps they reach are
 * collected, in `gatewayCallees`. A call of another service the test cannot read, or an
 * invocation by other means (a bare `invoke(`, Dapr's HTTP invoke URL), fails the test,
 * so a new one cannot slip past the access-control lists.
 */
export function invocationsInCode(): {
  calls: Call[];
  gatewayCallees: string[];
  gatewayCalls: Call[];
} {
  const jwks = jwksApp();
  const gatewayCallees = new Set<string>();
  const services = readdirSync(join(repoRoot, 'services')).filter((name) =>
    existsSync(join(repoRoot, 'services', name, 'package.json')),
  );
  const calls = services.flatMap((service) =>
    sourceFiles(join(repoRoot, 'services', service, 'src')).flatMap((file) =>
      invocationsInFile(service, file, jwks, gatewayCallees),
    ),
  );
  addGatewayCallees(gatewayCallees);
  return { calls, gatewayCallees: [...gatewayCallees].sort(), gatewayCalls: gatewayCalls() };
}

/**
 * A template literal's text with each `${...}` (braces balanced) as the sample id, or as
 * nothing where it builds the query string (`${query({...})}`).
 */
function withoutPlaceholders(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$' || text[i + 1] !== '{') {
      out += text[i];
      continue;
    }
    let depth = 0;
    let j = i + 1;
    for (; j < text.length; j++) {
      if (text[j] === '{') depth++;
      if (text[j] === '}' && --depth === 0) break;
    }
    out += text.slice(i + 2, j).startsWith('query(') ? '' : sampleId;
    i = j;
  }
  return out;
}

/**
 * What the gateway invokes, as calls with the verb `*` where any may come: each public
 * route it forwards (and a path below it), each GraphQL upstream call whose path the code
 * spells out, and each service's OpenAPI document. Its access-control lists must admit
 * exactly these.
 */
export function gatewayCalls(): Call[] {
  const where = 'services/gateway/src';
  const calls: Call[] = [];
  for (const { route, appId } of gatewayUpstreams) {
    const path = route.replace('*', sampleId);
    for (const sub of [path, `${path}/${sampleId}`])
      calls.push({ caller: 'gateway', callee: appId, verb: '*', path: sub, where });
  }
  for (const file of sourceFiles(join(repoRoot, 'services/gateway/src/graphql'))) {
    const text = readFileSync(file, 'utf8');
    const upstreamCall =
      /\bupstream(?:<.*?>)?\(\s*'([a-z-]+)',\s*(`[^`]*`|'[^']*')(?:\s*,\s*\{[^}]*?method:\s*'([A-Z]+)')?/g;
    for (const [, callee = '', pathArg = '', verb = 'GET'] of text.matchAll(upstreamCall)) {
      const path = withoutPlaceholders(pathArg.slice(1, -1)).split('?')[0];
      if (path) calls.push({ caller: 'gateway', callee, verb, path, where: file });
    }
  }
  for (const callee of new Set(gatewayUpstreams.map((u) => u.appId)))
    calls.push({ caller: 'gateway', callee, verb: 'GET', path: openApiDocumentPath, where });
  return calls;
}
