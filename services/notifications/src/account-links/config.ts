import { z } from 'zod';

/**
 * Where people open the shop: the links in mails point there. Any path it has is kept
 * (a shop served under `/shop`), a trailing slash dropped.
 */
export const accountLinksEnv = z.object({
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://localhost:8080')
    .transform((url) => url.replace(/\/+$/, '')),
});
