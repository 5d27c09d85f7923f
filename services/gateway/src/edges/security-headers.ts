import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

/** Paths that serve the browsable API reference, whose page needs its own scripts and styles. */
export const docsPathPrefix = '/docs';

const everywhere = {
  // The API is called from other origins through CORS only, never embedded or opened.
  crossOriginResourcePolicy: 'same-origin',
  referrerPolicy: 'no-referrer',
  strictTransportSecurity: 'max-age=31536000; includeSubDomains',
  xFrameOptions: 'DENY',
} as const;

const noneOfAnything = ["'none'"];

// JSON and event streams run no scripts: a response that a browser renders anyway loads nothing.
const apiHeaders = secureHeaders({
  ...everywhere,
  contentSecurityPolicy: {
    defaultSrc: noneOfAnything,
    frameAncestors: noneOfAnything,
    baseUri: noneOfAnything,
    formAction: noneOfAnything,
  },
});

// The reference page runs only the gateway's own scripts; its UI injects <style> elements
// and inline style attributes (so 'unsafe-inline' for styles, never for scripts), draws
// icons from data: URLs and calls only this origin (the document, "try it" requests).
const pagePolicy = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: noneOfAnything,
  frameAncestors: noneOfAnything,
  baseUri: noneOfAnything,
  formAction: noneOfAnything,
};
const docsHeaders = secureHeaders({ ...everywhere, contentSecurityPolicy: pagePolicy });

/** Where GraphiQL's page is served; its scripts, styles and Monaco's workers under /graphql/assets. */
export const graphiqlPath = '/graphql';

// GraphiQL's page and files run under the reference page's policy: its scripts and workers
// are files from this origin, none inline.
function isGraphiqlPath(path: string): boolean {
  return path === graphiqlPath || path.startsWith(`${graphiqlPath}/assets/`);
}

function isDocsPath(path: string): boolean {
  return path === docsPathPrefix || path.startsWith(`${docsPathPrefix}/`);
}

/**
 * Hono's secureHeaders on every answer: a Content-Security-Policy that allows nothing for
 * the API, and one that allows the gateway's own assets for the /docs page and GraphiQL's
 * (GET /graphql and its files).
 */
export function securityHeaders(): MiddlewareHandler {
  return (c, next) => {
    if (isDocsPath(c.req.path)) return docsHeaders(c, next);
    if (isGraphiqlPath(c.req.path) && c.req.method === 'GET') return docsHeaders(c, next);
    return apiHeaders(c, next);
  };
}
