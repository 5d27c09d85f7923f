import { OpenAPIHono } from '@hono/zod-openapi';
import { problemResponses } from '@shop/platform';

// The answers the gateway itself may give on any forwarded operation, written by the same
// problemResponses the services use, so they are the same JSON as theirs: a missing or bad
// token (where the route's policy checks one), a body over the route's limit, throttling,
// and an upstream that is unreachable (503) or too slow (504).
const probe = new OpenAPIHono();
probe.openAPIRegistry.registerPath({
  method: 'get',
  path: '/',
  responses: problemResponses(401, 413, 429, 503, 504),
});
const document = probe.getOpenAPI31Document({
  openapi: '3.1.0',
  info: { title: 'gateway problems', version: 'v1' },
});

const { 500: _unexpected, ...answered } = (document.paths?.['/']?.get?.responses ?? {}) as Record<
  string,
  unknown
>;

/** Problem responses by status (401, 413, 429, 503, 504), referring to `#/components/schemas/Problem`. */
export const gatewayProblemResponses: Record<string, unknown> = answered;
