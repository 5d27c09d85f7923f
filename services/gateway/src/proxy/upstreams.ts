import { isDaprOnlyPath } from '@shop/platform';
import type { Context } from 'hono';
import { upstreamTable } from './upstreams.generated.ts';

/**
 * Who may reach what: `none` paths carry no identity (sign-up, login, the public keys),
 * `optional` ones serve anyone but check a token that is present, `required` ones need a
 * valid access token. The owning service verifies the token again either way.
 */
export type AccessPolicy = 'none' | 'optional' | 'required';

/** A public path prefix, the Dapr app that serves it, and who may reach it. */
export type Upstream = { route: string; appId: string; access: AccessPolicy };

/**
 * Which Dapr app serves each public path: a path belongs to the first entry whose segments
 * it starts with, `*` standing for any one segment. The table is generated from each
 * service's manifest (services/<name>/service.json `routes`) longest first, so a product's
 * stock, served by inventory, is tried before the products catalog serves.
 */
export const upstreams: readonly Upstream[] = upstreamTable;

function startsWithRoute(path: string, route: string): boolean {
  const routeSegments = route.split('/');
  const pathSegments = path.split('/');
  return (
    pathSegments.length >= routeSegments.length &&
    routeSegments.every((segment, i) => segment === '*' || segment === pathSegments[i])
  );
}

export function upstreamFor(path: string) {
  return upstreams.find(({ route }) => startsWithRoute(path, route));
}

// Dapr decodes the method path once, resolves dot segments and hands the result to the
// app, whose server decodes it again; and it picks the target app from
// `Authorization: Basic dapr-app-id:...`. Either would let a public path reach another
// route (/events, /admin) or another app. So a path passes only if every segment, decoded
// once, is a plain name (no separator, no dot segment, no escape left to decode, nothing
// that ends a path); and the proxy forwards only a Bearer credential.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const unsafeInSegment = /[/\\%?#;\u0000-\u001f\u007f]/;

function isPlainPath(path: string): boolean {
  return path
    .split('/')
    .slice(1)
    .every((segment) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return false;
      }
      return decoded !== '.' && decoded !== '..' && !unsafeInSegment.test(decoded);
    });
}

/**
 * The upstream the request's path is forwarded to; none when no service owns the path or
 * its raw form is not plain, which the proxy answers with 404.
 */
export function routedUpstream(c: Context) {
  const upstream = upstreamFor(c.req.path);
  return upstream && isPlainPath(new URL(c.req.url).pathname) ? upstream : undefined;
}

/** Reachable without the app token: everything but what only Dapr may call. */
export function isPublicPath(path: string): boolean {
  return !isDaprOnlyPath(path);
}
