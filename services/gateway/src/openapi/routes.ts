import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRoute, z } from '@hono/zod-openapi';
import {
  bearerScheme,
  createRouter,
  isDaprOnlyPath,
  type Logger,
  problemResponses,
  type Sidecar,
} from '@shop/platform';
import { upstreamFor, upstreams } from '../proxy/upstreams.ts';
import { gatewayProblemResponses } from './gateway-problems.ts';
import { mergeOpenApiDocuments, type OpenApiDocument } from './merge.ts';
import { serviceDocuments } from './service-documents.ts';

export type OpenApiRoutesDeps = {
  sidecar: Pick<Sidecar, 'invoke'>;
  logger: Logger;
  config: { OPENAPI_CACHE_TTL_MS: number; UPSTREAM_TIMEOUT_MS: number };
  /** The clock of the document cache; Date.now unless given. */
  now?: (() => number) | undefined;
};

export const openApiPath = '/openapi.json';
export const docsPath = '/docs';

const info = {
  title: 'Shop API',
  version: 'v1',
  description:
    'The public API of the shop, as its gateway serves it. Errors are RFC 9457 ' +
    '`application/problem+json`; every answer carries `X-Request-Id` and `X-Trace-Id`; ' +
    'send an access token from `POST /api/v1/auth/login` as `Authorization: Bearer <token>`.',
};

const documentRoute = createRoute({
  method: 'get',
  path: openApiPath,
  summary: 'This OpenAPI 3.1 document',
  description: 'Every public operation of every service; a service that is down is left out.',
  responses: {
    200: {
      description: 'the merged OpenAPI 3.1 document',
      content: { 'application/json': { schema: z.looseObject({ openapi: z.string() }) } },
    },
    ...problemResponses(),
  },
});

const docsRoute = createRoute({
  method: 'get',
  path: docsPath,
  summary: 'A browsable API reference',
  description: 'The API reference UI over this document, served entirely by the gateway.',
  responses: {
    200: { description: 'the reference page', content: { 'text/html': { schema: z.string() } } },
    ...problemResponses(),
  },
});

// The UI's standalone browser bundle, from node_modules; no CDN is ever asked.
const scalarBundle = fileURLToPath(
  new URL('./browser/standalone.js', import.meta.resolve('@scalar/api-reference')),
);

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${info.title} reference</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="${docsPath}/scalar.js"></script>
    <script src="${docsPath}/init.js"></script>
  </body>
</html>
`;

// In a file of its own, so the page needs no inline script under its CSP.
const init = `Scalar.createApiReference('#app', ${JSON.stringify({
  url: openApiPath,
  withDefaultFonts: false,
  // Every service's operations listed in the sidebar from the start.
  defaultOpenAllTags: true,
  telemetry: false,
})});
`;

function ownedBy(appId: string, path: string): boolean {
  if (appId === 'gateway') return path === openApiPath || path === docsPath;
  return !isDaprOnlyPath(path) && upstreamFor(path)?.appId === appId;
}

/**
 * GET /openapi.json: one OpenAPI 3.1 document merged from every service's own (fetched
 * through the sidecar, cached) and the gateway's; GET /docs: Scalar's API reference over it,
 * every asset served from here.
 */
export function openApiRoutes(deps: OpenApiRoutesDeps) {
  // By name: the routing table's order is the order paths are matched in, not a reader's.
  const appIds = [...new Set(upstreams.map(({ appId }) => appId))].sort();
  const documents = serviceDocuments({
    sidecar: deps.sidecar,
    logger: deps.logger,
    appIds,
    ttlMs: deps.config.OPENAPI_CACHE_TTL_MS,
    timeoutMs: deps.config.UPSTREAM_TIMEOUT_MS,
    now: deps.now,
  });
  let bundle: string | undefined;

  const router = createRouter();
  router.openapi(documentRoute, async (c) => {
    const { parts, missing } = await documents.current();
    const document = mergeOpenApiDocuments(
      [{ appId: 'gateway', document: ownDocument() }, ...parts],
      { info, gatewayResponses: gatewayProblemResponses, owns: ownedBy, missing },
    );
    c.header('cache-control', 'no-cache');
    return c.json(document, 200);
  });
  router.openapi(docsRoute, (c) => c.html(page, 200));
  router.get(`${docsPath}/scalar.js`, (c) => {
    bundle ??= readFileSync(scalarBundle, 'utf8');
    c.header('content-type', 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=3600');
    return c.body(bundle);
  });
  router.get(`${docsPath}/init.js`, (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8');
    return c.body(init);
  });

  router.openAPIRegistry.registerComponent('securitySchemes', 'bearer', bearerScheme);
  let own: OpenApiDocument | undefined;
  function ownDocument(): OpenApiDocument {
    own ??= router.getOpenAPI31Document({ openapi: '3.1.0', info }) as OpenApiDocument;
    return own;
  }
  return router;
}
