import { accessTokenEnv, databaseEnv, serviceEnv } from '@shop/platform';
import { z } from 'zod';

/** The Dapr app id, the `source` of this service's events and the name in its logs and metrics. */
export const serviceName = 'payments';

export const paymentProviders = ['test', 'stripe'] as const;
export type PaymentProviderName = (typeof paymentProviders)[number];

export const paymentsEnv = serviceEnv
  .extend(accessTokenEnv.shape)
  .extend(databaseEnv.shape)
  .extend({
    /** `test` charges in process by the test payment method's name; `stripe` calls Stripe. */
    PAYMENT_PROVIDER: z.enum(paymentProviders).default('test'),
    /** How long the test provider takes per call, to play a slow processor. */
    PAYMENT_TEST_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
    /** A secret key (`sk_test_...`); required with PAYMENT_PROVIDER=stripe. */
    STRIPE_API_KEY: z.string().min(1).optional(),
    /** Another Stripe API endpoint than Stripe's own, e.g. a stripe-mock at `http://127.0.0.1:12111`. */
    STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).optional(),
  })
  .refine((env) => env.PAYMENT_PROVIDER !== 'stripe' || env.STRIPE_API_KEY, {
    path: ['STRIPE_API_KEY'],
    message: 'STRIPE_API_KEY must be set when PAYMENT_PROVIDER is stripe',
  });

export type PaymentsConfig = z.infer<typeof paymentsEnv>;
