import { z } from 'zod';

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** The email sender's settings; the SMTP server itself is the `email` binding's. */
export const emailEnv = z.object({
  EMAIL_FROM: z.string().min(3).default('Shop <no-reply@shop.local>'),
  /** How often the sender looks for due mail. */
  EMAIL_SEND_INTERVAL_MS: milliseconds(1_000),
  /** The first retry after a failed send; it doubles per attempt up to EMAIL_RETRY_MAX_MS. */
  EMAIL_RETRY_BASE_MS: milliseconds(2_000),
  EMAIL_RETRY_MAX_MS: milliseconds(5 * 60_000),
});
