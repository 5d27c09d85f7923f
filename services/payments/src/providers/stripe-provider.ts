import Stripe from 'stripe';
import type { ChargeOutcome, PaymentFailureReason, PaymentProvider } from './provider.ts';

export type StripeProviderOptions = {
  apiKey: string;
  /** Another endpoint than Stripe's own (stripe-mock in tests), as `http(s)://host:port`. */
  apiBase?: string | undefined;
};

function endpoint(apiBase: string) {
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return {
    host: url.hostname,
    port: url.port || (protocol === 'http' ? 80 : 443),
    protocol,
  } as const;
}

function declineReason(code: string | undefined): PaymentFailureReason {
  return code === 'insufficient_funds' ? 'insufficient_funds' : 'card_declined';
}

function outcomeOf(intent: Stripe.PaymentIntent): ChargeOutcome {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'succeeded', providerRef: intent.id };
    case 'requires_payment_method': {
      const error = intent.last_payment_error;
      return { status: 'failed', reason: declineReason(error?.decline_code ?? error?.code) };
    }
    case 'processing':
      // Not settled yet: unknown, so the caller asks again later (same key, same intent).
      throw new Error(`payment intent ${intent.id} is still processing`);
    default:
      // requires_action and the like: a test payment method that needs a customer present
      // cannot complete in a background charge.
      return { status: 'failed', reason: 'processing_error' };
  }
}

/**
 * Stripe through its official SDK: one PaymentIntent per order, created and confirmed in one
 * call with the order's idempotency key, so a retry returns the same intent instead of
 * charging again; refunds go against that intent. A card decline is a failed charge; a
 * request Stripe calls invalid cannot succeed on retry, so it fails as a processing error;
 * anything else (network, Stripe down, rate limits, a bad key) throws for a later retry.
 */
export function createStripePaymentProvider(options: StripeProviderOptions): PaymentProvider {
  const stripe = new Stripe(options.apiKey, {
    // The SDK's own retries resend the same idempotency key; ours (the event's) come on top.
    maxNetworkRetries: 2,
    timeout: 20_000,
    ...(options.apiBase ? endpoint(options.apiBase) : {}),
  });
  return {
    name: 'stripe',
    async charge(request) {
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount: request.amount,
            currency: request.currency.toLowerCase(),
            payment_method: request.paymentMethod,
            confirm: true,
            // Charged in the background with no customer present, so no redirect can follow.
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            metadata: { orderId: request.orderId },
          },
          { idempotencyKey: request.idempotencyKey },
        );
        return outcomeOf(intent);
      } catch (error) {
        if (error instanceof Stripe.errors.StripeCardError) {
          return { status: 'failed', reason: declineReason(error.decline_code ?? error.code) };
        }
        if (error instanceof Stripe.errors.StripeInvalidRequestError) {
          return { status: 'failed', reason: 'processing_error' };
        }
        throw error;
      }
    },
    async refund(request) {
      const refund = await stripe.refunds.create(
        { payment_intent: request.chargeRef, amount: request.amount },
        { idempotencyKey: request.idempotencyKey },
      );
      if (refund.status === 'failed' || refund.status === 'canceled') {
        throw new Error(`refund ${refund.id} of ${request.chargeRef} is ${refund.status}`);
      }
      return { providerRef: refund.id };
    },
  };
}
