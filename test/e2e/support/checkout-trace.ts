import { randomBytes, randomUUID } from 'node:crypto';
import { type TestShop, waitForSettled } from '@shop/devkit/testing';
import {
  ancestors,
  isDatabaseSpan,
  type JaegerTrace,
  rootsOf,
  serviceOf,
  spansOf,
} from '@shop/devkit/traces';
import { expect } from 'vitest';

/** The services one checkout crosses, each beside its own sidecar. */
export const checkoutPath = [
  'gateway',
  'orders',
  'catalog',
  'inventory',
  'payments',
  'notifications',
];

export type TracedCheckout = { traceId: string; clientSpanId: string; orderId: string };

/**
 * Places one order through the gateway as a client that traces its own call (a W3C
 * traceparent of the test's), and waits until it is confirmed.
 */
export async function placeTracedCheckout(
  shop: TestShop,
  token: string,
  productId: string,
): Promise<TracedCheckout> {
  const traceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  const res = await shop.send('POST', '/api/v1/orders', {
    token,
    headers: { 'idempotency-key': randomUUID(), traceparent: `00-${traceId}-${clientSpanId}-01` },
    body: { items: [{ productId, quantity: 1 }], paymentMethod: 'pm_card_visa' },
  });
  expect(res.status).toBe(202);
  const order = (await res.json()) as { id: string };
  expect((await waitForSettled(shop, token, order.id)).status).toBe('confirmed');
  return { traceId, clientSpanId, orderId: order.id };
}

/** Each service on the path and its sidecar have spans in the trace. */
function missingHops(trace: JaegerTrace): string[] {
  return checkoutPath.flatMap((service) =>
    (['app', 'sidecar'] as const)
      .filter((side) => spansOf(trace, service, side).length === 0)
      .map((side) => `no ${side} span of ${service}`),
  );
}

/** The services that write a checkout to their database, and that database's system. */
const checkoutWriters = {
  orders: 'postgresql',
  inventory: 'postgresql',
  payments: 'postgresql',
  notifications: 'mongodb',
};

/** Each writer's queries or commands are spans of the trace, under that service's own. */
function missingQueries(trace: JaegerTrace): string[] {
  return Object.entries(checkoutWriters).flatMap(([service, system]) => {
    const found = spansOf(trace, service, 'app').some(
      (span) => isDatabaseSpan(span) && span.tags.some((tag) => String(tag.value) === system),
    );
    return found ? [] : [`no ${system} span of ${service}`];
  });
}

/** One root: the gateway's server span, child of the client's own span. */
function wrongRoots(trace: JaegerTrace, clientSpanId: string): string[] {
  const roots = rootsOf(trace);
  const [root] = roots;
  const parent = root?.references.find((ref) => ref.refType === 'CHILD_OF')?.spanID;
  if (roots.length === 1 && root && serviceOf(trace, root) === 'gateway' && parent === clientSpanId)
    return [];
  const named = roots.map((span) => `${serviceOf(trace, span)}: ${span.operationName}`);
  return [`roots other than the gateway's request: ${named.join(', ')}`];
}

/**
 * Every consumer's span is a child (at some depth) of the publish that caused it, and the
 * consumer's sidecar delivered it in the same trace. The consumer takes its parent from
 * the event's own traceparent, whatever the broker did with the delivery's headers.
 */
function brokenDeliveries(trace: JaegerTrace): string[] {
  return trace.spans.flatMap((span) => {
    const type = /^consume (.+)$/.exec(span.operationName)?.[1];
    if (!type) return [];
    const consumer = serviceOf(trace, span);
    const problems = ancestors(trace, span).includes(`dapr publish ${type}`)
      ? []
      : [`${consumer}'s ${span.operationName} not under dapr publish ${type}`];
    const delivered = spansOf(trace, consumer, 'sidecar').some(
      (candidate) => candidate.operationName === `pubsub/${type}`,
    );
    return delivered ? problems : [...problems, `no pubsub/${type} span of ${consumer}'s sidecar`];
  });
}

/** The confirmation mail sent in the trace, through notifications' sidecar (the binding). */
function missingMail(trace: JaegerTrace): string[] {
  const sends = trace.spans.filter((span) => span.operationName === 'email send');
  if (sends.length === 0) return ['no email send span'];
  const problems = sends
    .filter((send) => !ancestors(trace, send).includes('consume order.confirmed'))
    .map(() => 'an email send not under consume order.confirmed');
  const viaSidecar = spansOf(trace, 'notifications', 'sidecar').some((span) =>
    ancestors(trace, span).includes('email send'),
  );
  return viaSidecar ? problems : [...problems, "no sidecar span under the email's send"];
}

/** What keeps `trace` from being the whole of one checkout; empty when it is. */
export function checkoutTraceProblems(trace: JaegerTrace, clientSpanId: string): string[] {
  return [
    ...missingHops(trace),
    ...missingQueries(trace),
    ...wrongRoots(trace, clientSpanId),
    ...brokenDeliveries(trace),
    ...missingMail(trace),
  ];
}
