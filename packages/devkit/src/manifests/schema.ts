import { z } from 'zod';

/** A Dapr app id, which is also the service's folder under services/. */
const appId = z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes');
const port = z.number().int().min(1).max(65535);

/** "VERB /path" as Dapr's access-control lists take it; `/**` at the end for any depth. */
export const methodPattern = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\*) \/\S*$/;
const method = z.string().regex(methodPattern, '"VERB /path", e.g. "GET /.well-known/jwks.json"');

/** An event type of the catalogue, e.g. order.created. */
const topic = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'an event type');

const route = z.strictObject({
  /** A public path prefix the gateway forwards; `*` stands for any one segment. */
  path: z.string().regex(/^(\/[^/\s]+)+$/, 'a path of one or more segments'),
  access: z.enum(['none', 'optional', 'required']),
  /** One document rather than a prefix: the access control admits this path alone. */
  exact: z.boolean().optional(),
});

/**
 * What one service is to the rest of the shop: everything `npm run manifests` generates
 * dapr.yaml, the gateway's upstreams, the chart's services and access control, the
 * resiliency targets, subscriptions and topic scopes from.
 */
export const serviceManifest = z.strictObject({
  $schema: z.string().optional(),
  appId,
  /** Local defaults (dapr.yaml); `npm start` picks free ports of its own. */
  ports: z.strictObject({ app: port, daprHttp: port, metrics: port }),
  storage: z.enum(['postgres', 'mongodb', 'none']),
  /** Reachable from outside the cluster (a Kubernetes Service): the gateway alone. */
  exposed: z.boolean().default(false),
  routes: z.array(route).default([]),
  /** Dapr service invocation: callee app id -> the methods this service calls. */
  invokes: z.record(appId, z.array(method).min(1)).default({}),
  publishes: z.array(topic).default([]),
  subscribes: z.array(topic).default([]),
  /** Secrets it reads through the Dapr secret store. */
  secretStoreReads: z.array(z.string().min(1)).default([]),
  resiliency: z
    .strictObject({
      /** false: no Dapr invoke timeout on calls to this app (a long-lived stream). */
      invokeTimeout: z.boolean(),
      why: z.string().min(1),
    })
    .optional(),
});

export type ServiceManifest = z.output<typeof serviceManifest>;
export type ServiceRoute = z.output<typeof route>;

/** The JSON schema editors check service.json against (its `$schema`). */
export function manifestJsonSchema(): string {
  const schema = z.toJSONSchema(serviceManifest, { io: 'input' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
