import type { BrokerProfile } from '@shop/devkit/brokers';
import { describe } from 'vitest';
import { describeBrokerRestart } from './broker-kill.ts';
import { describeDuplicateDelivery } from './duplicates.ts';
import { describeExpiry } from './expiry.ts';
import { describeInvariants } from './invariants.ts';
import { describeConsumerOutage } from './outage.ts';
import { describeCheckouts } from './scenarios.ts';
import { useCustomers, useSagaShop } from './support/shop.ts';
import { describeOneTrace } from './trace.ts';

/**
 * The checkout saga end to end, through every real service and sidecar and the broker of
 * one profile (components/<broker>/): the same cases on every broker, each profile's file
 * under test/e2e/ calling this once, so no profile gets a lighter suite. Orders, inventory
 * and payments talk only through Dapr pub/sub; the test reads only the gateway. One shop
 * runs the groups below in this order (each file of this folder is one group), then a
 * second shop with a 1 s order TTL runs the expiry case. The first shop runs with its
 * Jaeger and Prometheus, as npm start does, so the trace of a checkout is read back too.
 */
export function describeCheckoutSaga(broker: BrokerProfile): void {
  describe(`the checkout saga on the ${broker} broker`, () => {
    const saga = useSagaShop(broker, {
      // Slow enough that the broker's restart catches charges in the middle of a call.
      payments: { PAYMENT_TEST_DELAY_MS: '200' },
    });
    const faultCustomers = useCustomers(saga, 'fault', 3);

    describeCheckouts(saga);
    describeOneTrace(saga);
    describeDuplicateDelivery(saga);
    describeConsumerOutage(saga);
    // Before the broker restart: on a profile known to fail that case, what it strands
    // would otherwise show up here too.
    describeInvariants(saga);
    describeBrokerRestart(broker, saga, faultCustomers);
  });
  describeExpiry(broker);
}
