/**
 * Who may reach what: `none` paths carry no identity (sign-up, login, the public keys),
 * `optional` ones serve anyone but check a token that is present, `required` ones need a
 * valid access token. The owning service verifies the token again either way.
 */
export type AccessPolicy = 'none' | 'optional' | 'required';

/** Which Dapr app serves each public path prefix; the first match wins. */
export const upstreams: ReadonlyArray<{ prefix: string; appId: string; access: AccessPolicy }> = [
  { prefix: '/api/v1/auth', appId: 'users', access: 'none' },
  { prefix: '/.well-known/jwks.json', appId: 'users', access: 'none' },
  { prefix: '/api/v1/users', appId: 'users', access: 'required' },
  { prefix: '/api/v1/notifications', appId: 'notifications', access: 'required' },
];

export function upstreamFor(path: string) {
  return upstreams.find(({ prefix }) => path === prefix || path.startsWith(`${prefix}/`));
}

// Paths only Dapr may call (event deliveries, dead letters, admin); the rest is public.
const daprOnlyPrefixes = ['/events/', '/dead-letters', '/admin/', '/dapr/'];

export function isPublicPath(path: string): boolean {
  return !daprOnlyPrefixes.some((prefix) => path.startsWith(prefix));
}
