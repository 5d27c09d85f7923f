import { createProductWithStock } from '@shop/devkit/testing';
import { settledTrace } from '@shop/devkit/traces';
import { expect, it } from 'vitest';
import { checkoutTraceProblems, placeTracedCheckout } from '../support/checkout-trace.ts';
import type { SagaShop } from './support/shop.ts';

/**
 * One checkout is one trace on this broker: every service and sidecar on the path, the
 * email, one root, and each consumer under the publish that caused it, across every
 * pub/sub hop of the profile (checkoutTraceProblems in ../support/checkout-trace.ts).
 */
export function describeOneTrace(saga: SagaShop): void {
  it('makes one trace of one checkout, across every hop of the broker', async () => {
    const { shop, adminToken, token } = saga;
    const product = await createProductWithStock(shop, adminToken, { sku: 'TRACED-1', stock: 3 });
    const checkout = await placeTracedCheckout(shop, token, product.id);
    const { problems } = await settledTrace(
      shop.jaeger?.queryUrl ?? '',
      checkout.traceId,
      (trace) => checkoutTraceProblems(trace, checkout.clientSpanId),
    );
    expect(problems).toEqual([]);
  }, 120_000);
}
