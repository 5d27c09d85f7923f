import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, problemResponses } from '@shop/platform';
import { jwksPath, jwksSchema, type Keyring } from '@shop/platform/auth';

const jwksRoute = createRoute({
  method: 'get',
  path: jwksPath,
  responses: {
    200: {
      description: 'the public keys that verify access tokens: current, next and previous',
      headers: z.object({ 'Cache-Control': z.string() }),
      content: { 'application/json': { schema: jwksSchema } },
    },
    ...problemResponses(),
  },
});

/** Mounted at the root: other services fetch the keys through Dapr, browsers through the gateway. */
export function signingKeyRoutes(deps: { keyring: Pick<Keyring, 'jwks'> }) {
  return createRouter().openapi(jwksRoute, (c) => {
    c.header('cache-control', 'public, max-age=300');
    // Parsed on the way out too, so only public members can ever be published.
    return c.json(jwksSchema.parse(deps.keyring.jwks()), 200);
  });
}
