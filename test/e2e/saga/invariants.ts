import { checkInvariants } from '@shop/devkit/testing';
import { expect, it } from 'vitest';
import type { SagaShop } from './support/shop.ts';

/** After everything before it, the invariant checker finds nothing. */
export function describeInvariants(saga: SagaShop): void {
  it('leaves the invariant checker nothing to report', async () => {
    const { shop, adminToken } = saga;
    expect(await checkInvariants({ baseUrl: shop.gatewayUrl as string, adminToken })).toEqual([]);
  });
}
