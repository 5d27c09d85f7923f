/** Which Dapr app serves each public path prefix; the first match wins. */
export const upstreams: ReadonlyArray<{ prefix: string; appId: string }> = [
  { prefix: '/api/v1/auth', appId: 'users' },
  { prefix: '/api/v1/users', appId: 'users' },
  { prefix: '/.well-known/jwks.json', appId: 'users' },
  { prefix: '/api/v1/notifications', appId: 'notifications' },
];

export function upstreamFor(path: string): string | undefined {
  return upstreams.find(({ prefix }) => path === prefix || path.startsWith(`${prefix}/`))?.appId;
}

// Paths only Dapr may call (event deliveries, dead letters, admin); the rest is public.
const daprOnlyPrefixes = ['/events/', '/dead-letters', '/admin/', '/dapr/'];

export function isPublicPath(path: string): boolean {
  return !daprOnlyPrefixes.some((prefix) => path.startsWith(prefix));
}
