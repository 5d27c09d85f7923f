import type { ServiceManifest } from './schema.ts';

export type Upstream = { route: string; appId: string; access: 'none' | 'optional' | 'required' };

function segments(route: string): string[] {
  return route.split('/').slice(1);
}

/**
 * The gateway's table: every service's public routes, longest first (by segments), so
 * that a route nested in another's (a product's stock under the products) is tried
 * before it; otherwise in the services' order.
 */
export function upstreamTable(manifests: readonly ServiceManifest[]): Upstream[] {
  const all = manifests.flatMap((m) =>
    m.routes.map(({ path, access }) => ({ route: path, appId: m.appId, access })),
  );
  return all
    .map((upstream, order) => ({ upstream, order }))
    .sort(
      (a, b) =>
        segments(b.upstream.route).length - segments(a.upstream.route).length || a.order - b.order,
    )
    .map(({ upstream }) => upstream);
}

/** Whether some path could belong to both routes: their shared segments all match. */
function overlap(a: string, b: string): boolean {
  const [x, y] = [segments(a), segments(b)];
  const shared = Math.min(x.length, y.length);
  return x.slice(0, shared).every((s, i) => s === '*' || y[i] === '*' || s === y[i]);
}

/**
 * Routes that the longest-first rule cannot tell apart: two of the same length that some
 * path matches both of (the same route twice, or a `*` against a name).
 */
export function routeConflicts(manifests: readonly ServiceManifest[]): string[] {
  const table = upstreamTable(manifests);
  const conflicts: string[] = [];
  table.forEach((a, i) => {
    for (const b of table.slice(i + 1)) {
      if (segments(a.route).length === segments(b.route).length && overlap(a.route, b.route)) {
        conflicts.push(`route ${a.route} (${a.appId}) overlaps ${b.route} (${b.appId})`);
      }
    }
  });
  return conflicts;
}

/**
 * The Dapr access-control method a public route needs: every verb on the route and what
 * lies below it. Dapr matches `*` only as a last segment, so a route with one mid-path is
 * opened from there on (`/api/v1/products/*\/stock` -> `/api/v1/products/**`).
 */
export function routeMethod({ path, exact }: { path: string; exact?: boolean }): string {
  const wildcard = segments(path).indexOf('*');
  if (wildcard >= 0) return `* /${segments(path).slice(0, wildcard).join('/')}/**`;
  return exact ? `* ${path}` : `* ${path}/**`;
}
