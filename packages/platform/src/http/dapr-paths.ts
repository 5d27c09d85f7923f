/**
 * Paths only Dapr may call: event deliveries and dead letters from subscriptions, the
 * consumer's dead-letter admin, Dapr's own app callbacks, and each service's internal
 * documents. The gateway never forwards them and never serves its own without the app token.
 */
export const daprOnlyPathPrefixes = [
  '/events/',
  '/dead-letters',
  '/admin/',
  '/dapr/',
  '/internal/',
] as const;

/**
 * Whether only Dapr, never a client through the gateway, may call the path.
 *
 * @example
 * createServiceApp({ service: 'gateway', logger, appApiToken, isPublicPath: (path) => !isDaprOnlyPath(path) });
 */
export function isDaprOnlyPath(path: string): boolean {
  return daprOnlyPathPrefixes.some((prefix) => path.startsWith(prefix));
}
