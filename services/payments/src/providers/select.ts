import type { PaymentsConfig } from '../config.ts';
import type { PaymentProvider } from './provider.ts';
import { createTestPaymentProvider } from './test-provider.ts';

/** The provider PAYMENT_PROVIDER names; the Stripe SDK is loaded only when it is used. */
export async function paymentProviderFrom(
  config: Pick<
    PaymentsConfig,
    'PAYMENT_PROVIDER' | 'PAYMENT_TEST_DELAY_MS' | 'STRIPE_API_KEY' | 'STRIPE_API_BASE'
  >,
): Promise<PaymentProvider> {
  if (config.PAYMENT_PROVIDER === 'test') {
    return createTestPaymentProvider({ delayMs: config.PAYMENT_TEST_DELAY_MS });
  }
  if (!config.STRIPE_API_KEY) throw new Error('STRIPE_API_KEY must be set for the stripe provider');
  const { createStripePaymentProvider } = await import('./stripe-provider.ts');
  return createStripePaymentProvider({
    apiKey: config.STRIPE_API_KEY,
    apiBase: config.STRIPE_API_BASE,
  });
}
