import { type Logger, openApiDocumentPath, type Sidecar } from '@shop/platform';
import type { OpenApiDocument, ServicePart } from './merge.ts';

export type ServiceDocumentsOptions = {
  sidecar: Pick<Sidecar, 'invoke'>;
  logger: Logger;
  /** The apps whose documents make up the whole. */
  appIds: readonly string[];
  /** How long a fetched document is kept before it is asked for again. */
  ttlMs: number;
  /** How long one fetch may take. */
  timeoutMs: number;
  /** The clock the TTL is measured by; Date.now unless given. */
  now?: (() => number) | undefined;
};

export type ServiceDocuments = {
  /** Each app's document, fetched anew where missing or older than the TTL; the apps that gave none. */
  current(): Promise<{ parts: ServicePart[]; missing: string[] }>;
};

type Cached = { document: OpenApiDocument; fetchedAt: number };

function isOpenApi31(value: unknown): value is OpenApiDocument {
  const version = (value as { openapi?: unknown } | null)?.openapi;
  return typeof version === 'string' && version.startsWith('3.1.');
}

/**
 * The services' own OpenAPI documents, fetched through the gateway's sidecar from
 * /internal/openapi.json and cached. A document past its TTL is fetched again; while that
 * fails the last good one is kept, and an app that never answered is asked again on the
 * next call, its part missing meanwhile (and logged).
 *
 * @example
 * const documents = serviceDocuments({ sidecar, logger, appIds: ['users', 'catalog'], ttlMs: 300_000, timeoutMs: 5_000 });
 * const { parts, missing } = await documents.current();
 */
export function serviceDocuments(options: ServiceDocumentsOptions): ServiceDocuments {
  const now = options.now ?? Date.now;
  const cache = new Map<string, Cached>();
  const inFlight = new Map<string, Promise<Cached | undefined>>();

  async function fetchDocument(appId: string): Promise<Cached | undefined> {
    try {
      const res = await options.sidecar.invoke(appId, openApiDocumentPath, {
        method: 'GET',
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (!res.ok) throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
      const document: unknown = await res.json();
      if (!isOpenApi31(document)) throw new Error('the answer is not an OpenAPI 3.1 document');
      const fresh = { document, fetchedAt: now() };
      cache.set(appId, fresh);
      return fresh;
    } catch (error) {
      const stale = cache.get(appId);
      options.logger.warn('openapi document unavailable', {
        appId,
        keeping: stale ? 'the last one fetched' : 'nothing: its part is missing',
        error,
      });
      return stale;
    }
  }

  function documentOf(appId: string): Promise<Cached | undefined> {
    const cached = cache.get(appId);
    if (cached && now() - cached.fetchedAt < options.ttlMs) return Promise.resolve(cached);
    let pending = inFlight.get(appId);
    if (!pending) {
      pending = fetchDocument(appId).finally(() => inFlight.delete(appId));
      inFlight.set(appId, pending);
    }
    return pending;
  }

  return {
    async current() {
      const found = await Promise.all(options.appIds.map(documentOf));
      const parts: ServicePart[] = [];
      const missing: string[] = [];
      options.appIds.forEach((appId, i) => {
        const entry = found[i];
        if (entry) parts.push({ appId, document: entry.document });
        else missing.push(appId);
      });
      return { parts, missing };
    },
  };
}
