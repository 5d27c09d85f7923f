import type { Logger } from '@shop/platform';
import type { Context } from 'hono';
import { clientAddress } from './client-address.ts';

/** What a call to a service carries of the client's request, from REST and GraphQL alike. */
export type CallerRequest = {
  requestId: string;
  traceparent: string;
  /** The client's own `Bearer` credential, passed on untouched: each service verifies it. */
  authorization: string | undefined;
  clientAddress: string | undefined;
};

export function callerRequest(c: Context, trustedProxyHops: number): CallerRequest {
  const authorization = c.req.header('authorization');
  return {
    requestId: c.get('requestId'),
    traceparent: c.get('traceparent'),
    // Dapr picks the target app from `Authorization: Basic dapr-app-id:...`, so nothing
    // but a Bearer credential goes on.
    authorization: authorization && /^bearer\s/i.test(authorization) ? authorization : undefined,
    clientAddress: clientAddress(c, trustedProxyHops),
  };
}

/** `headers` with the caller's request id, trace, credential and address set. */
export function withCaller(headers: Headers, caller: CallerRequest): Headers {
  headers.set('x-request-id', caller.requestId);
  headers.set('traceparent', caller.traceparent);
  if (caller.authorization) headers.set('authorization', caller.authorization);
  if (caller.clientAddress) headers.set('x-forwarded-for', caller.clientAddress);
  return headers;
}

/**
 * Logs an answer that is not a service's own: Dapr itself answered (the callee is down,
 * its sidecar is gone, no route), which the client learns only as the service being
 * unavailable.
 */
export async function logDaprAnswer(logger: Logger, appId: string, res: Response): Promise<void> {
  logger.warn('upstream unavailable', {
    appId,
    status: res.status,
    detail: (await res.text().catch(() => '')).slice(0, 500),
  });
}
