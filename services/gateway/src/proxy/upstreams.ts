import { isDaprOnlyPath } from '@shop/platform';

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

/** Reachable without the app token: everything but what only Dapr may call. */
export function isPublicPath(path: string): boolean {
  return !isDaprOnlyPath(path);
}
