import { AppError, type Logger, type Sidecar } from '@shop/platform';
import { z } from 'zod';

/** A product as the catalog prices it now. */
export type CatalogProduct = { id: string; name: string; price: number; currency: string };

/** What orders needs from the catalog: current names and prices of some products, at once. */
export type CatalogClient = {
  /** `missing` lists the ids the catalog does not have (never created, or deleted). */
  productsByIds(ids: string[]): Promise<{ items: CatalogProduct[]; missing: string[] }>;
};

const batchAnswer = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      price: z.number().int().min(0),
      currency: z.string(),
    }),
  ),
  missing: z.array(z.string()),
});

const unavailable = () =>
  new AppError(
    'upstream_unavailable',
    'the catalog could not be reached to price the order; nothing was placed, retry with the same Idempotency-Key',
    { headers: { 'retry-after': '1' } },
  );

/**
 * The catalog over Dapr invocation: one batch call per order, however many lines it has.
 * Any failure to get a well-formed answer is a 503, so the client retries the same request.
 */
export function catalogViaDapr(
  sidecar: Pick<Sidecar, 'invoke'>,
  logger: Logger,
  appId = 'catalog',
): CatalogClient {
  return {
    async productsByIds(ids) {
      let res: Response;
      try {
        res = await sidecar.invoke(appId, '/internal/products/batch', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ids }),
        });
      } catch (error) {
        logger.warn('catalog unreachable', { error });
        throw unavailable();
      }
      const parsed = res.ok ? batchAnswer.safeParse(await res.json().catch(() => undefined)) : null;
      if (!parsed?.success) {
        logger.warn('catalog answered the batch lookup unusably', {
          status: res.status,
          ...(parsed ? { issues: parsed.error.issues } : {}),
        });
        throw unavailable();
      }
      return parsed.data;
    },
  };
}
