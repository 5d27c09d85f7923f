import { z } from '@hono/zod-openapi';
import type { JSONWebKeySet } from 'jose';
import type { Sidecar } from '../dapr/sidecar.ts';

/** Where the users service serves its public signing keys, behind its Dapr app id. */
export const jwksPath = '/.well-known/jwks.json';

// A JWKS fetch happens on the request path (cold start, unknown kid), so it must be short.
const jwksTimeoutMs = 2_000;

/**
 * A JWKS as the users service serves it. Only the members an Ed25519 verification key uses
 * survive a parse, so nothing else (a private `d` published by mistake, say) reaches the
 * verifier.
 */
export const jwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.string(),
        crv: z.string().optional(),
        x: z.string().optional(),
        kid: z.string().optional(),
        alg: z.string().optional(),
        use: z.string().optional(),
      }),
    ),
  })
  .openapi('JsonWebKeySet');

/**
 * Fetches the users service's JWKS through Dapr service invocation, for
 * {@link createTokenVerifier}. Throws on a non-2xx answer, a malformed body or a timeout.
 *
 * @example
 * const verifier = createTokenVerifier({ fetchJwks: jwksViaDapr(sidecar.invoke), issuer, audience, logger });
 */
export function jwksViaDapr(
  invoke: Sidecar['invoke'],
  appId = 'users',
): () => Promise<JSONWebKeySet> {
  return async () => {
    const response = await invoke(appId, jwksPath, {
      method: 'GET',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(jwksTimeoutMs),
    });
    if (!response.ok) {
      throw new Error(`${appId} answered ${response.status} for ${jwksPath}`);
    }
    const body = jwksSchema.safeParse(await response.json());
    if (!body.success) throw new Error(`${appId} answered ${jwksPath} with no valid key set`);
    return body.data;
  };
}
