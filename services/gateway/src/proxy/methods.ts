import { AppError, type Logger, type Sidecar } from '@shop/platform';
import type { Context, MiddlewareHandler } from 'hono';
import { docsPath, openApiPath } from '../openapi/routes.ts';
import { type ServiceDocuments, serviceDocuments } from '../openapi/service-documents.ts';
import { routedUpstream } from './upstreams.ts';

/**
 * The methods the gateway ever forwards. Anything else (TRACE, CONNECT, made-up ones) is
 * refused here: Node's HTTP client refuses some of them itself, which would read as the
 * service being down.
 */
export const forwardedMethods: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
];

/** OPTIONS is always allowed: the CORS edge answers it before any route. */
const alwaysAllowed = ['OPTIONS'];

/** The methods each path template of one service's document declares, upper case. */
type MethodTable = ReadonlyArray<{ segments: string[]; methods: Set<string> }>;

export type RouteMethods = {
  /**
   * The methods `path` (a public path of `appId`) has, from the service's own OpenAPI
   * document; undefined while that document is unknown or declares no such path, so the
   * request is forwarded and the service decides.
   */
  allowed(appId: string, path: string): Promise<ReadonlySet<string> | undefined>;
};

const operationKeys = new Set(['get', 'put', 'post', 'delete', 'patch', 'head']);

function methodTable(paths: unknown): MethodTable {
  if (typeof paths !== 'object' || paths === null) return [];
  return Object.entries(paths).map(([template, item]) => {
    const methods = new Set(
      Object.keys(typeof item === 'object' && item !== null ? item : {})
        .filter((key) => operationKeys.has(key))
        .map((key) => key.toUpperCase()),
    );
    if (methods.has('GET')) methods.add('HEAD');
    return { segments: template.split('/'), methods };
  });
}

function matches(template: string[], path: string[]): boolean {
  return (
    template.length === path.length &&
    template.every(
      (segment, i) => segment === path[i] || (/^\{[^/]+\}$/.test(segment) && path[i] !== ''),
    )
  );
}

/** The union over every template `path` matches, so an overlap never refuses a method. */
function methodsOf(table: MethodTable, path: string): ReadonlySet<string> | undefined {
  const segments = path.split('/');
  const found = table.filter((entry) => matches(entry.segments, segments));
  if (found.length === 0) return undefined;
  return new Set(found.flatMap((entry) => [...entry.methods]));
}

// A service whose document could not be had is not asked again sooner than this, so its
// outage does not turn every request into a second call to it.
const retryAfterFailureMs = 30_000;

/**
 * Each service's methods per path from its own OpenAPI document (/internal/openapi.json,
 * through the sidecar). The first request to a service waits for its document; after
 * `ttlMs` it is fetched again in the background while the old table keeps answering.
 *
 * @example
 * const routeMethods = serviceRouteMethods({ sidecar, logger, ttlMs: 300_000, timeoutMs: 2_000 });
 * await routeMethods.allowed('catalog', '/api/v1/products/p-1'); // Set { 'GET', 'HEAD', ... }
 */
export function serviceRouteMethods(options: {
  sidecar: Pick<Sidecar, 'invoke'>;
  logger: Logger;
  ttlMs: number;
  timeoutMs: number;
  /** The clock the TTL and the pause after a failure are measured by; Date.now unless given. */
  now?: (() => number) | undefined;
}): RouteMethods {
  const now = options.now ?? Date.now;
  const tables = new Map<string, { table: MethodTable; fetchedAt: number }>();
  const failedAt = new Map<string, number>();
  const refreshing = new Map<string, Promise<void>>();
  const fetchers = new Map<string, ServiceDocuments>();
  // A fetcher per app that always asks: when to ask is decided here.
  const documentsOf = (appId: string) => {
    let documents = fetchers.get(appId);
    if (!documents) {
      documents = serviceDocuments({ ...options, appIds: [appId], ttlMs: 0 });
      fetchers.set(appId, documents);
    }
    return documents.current();
  };

  const refresh = (appId: string) => {
    let pending = refreshing.get(appId);
    if (pending) return pending;
    pending = documentsOf(appId)
      .then(({ parts }) => {
        const document = parts[0]?.document;
        if (document) tables.set(appId, { table: methodTable(document.paths), fetchedAt: now() });
        else failedAt.set(appId, now());
      })
      .finally(() => refreshing.delete(appId));
    refreshing.set(appId, pending);
    return pending;
  };

  return {
    async allowed(appId, path) {
      const known = tables.get(appId);
      if (known) {
        if (now() - known.fetchedAt >= options.ttlMs) void refresh(appId);
        return methodsOf(known.table, path);
      }
      const failed = failedAt.get(appId);
      if (failed !== undefined && now() - failed < retryAfterFailureMs) return undefined;
      await refresh(appId);
      const fetched = tables.get(appId);
      return fetched && methodsOf(fetched.table, path);
    },
  };
}

function methodNotAllowed(c: Context, allowed: ReadonlySet<string>): AppError {
  const allow = [...forwardedMethods.filter((method) => allowed.has(method)), ...alwaysAllowed];
  return new AppError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}`, {
    headers: { allow: allow.join(', ') },
  });
}

// The gateway's own public paths, which it serves itself.
const ownPaths = new Map<string, ReadonlySet<string>>([
  [openApiPath, new Set(['GET', 'HEAD'])],
  [docsPath, new Set(['GET', 'HEAD'])],
  ['/graphql', new Set(['GET', 'HEAD', 'POST'])],
]);

/**
 * Refuses with 405 and `Allow`, before any token check, budget or forwarding, a method a
 * public path does not have: on a proxied path one the gateway never forwards, or (given
 * `routeMethods`) one the owning service's document does not declare for it. Other paths
 * pass untouched, so an unrouted one still answers 404.
 */
export function allowedMethodsOnly(routeMethods?: RouteMethods): MiddlewareHandler {
  const everyForwarded = new Set(forwardedMethods);
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return next();
    const own = ownPaths.get(c.req.path);
    if (own && !own.has(c.req.method)) throw methodNotAllowed(c, own);
    const upstream = routedUpstream(c);
    if (!upstream) return next();
    const declared = await routeMethods?.allowed(upstream.appId, c.req.path);
    const allowed = declared ?? everyForwarded;
    if (!everyForwarded.has(c.req.method) || !allowed.has(c.req.method)) {
      throw methodNotAllowed(c, allowed);
    }
    return next();
  };
}
