import { AppError, type Logger, type Sidecar } from '@shop/platform';
import { z } from 'zod';

/** A product as the catalog sells it now. */
export type CatalogProduct = { id: string; name: string; price: number; available: number };

/** What the cart needs from the catalog: some products' current prices and stock, at once. */
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
      available: z.number().int(),
    }),
  ),
  missing: z.array(z.string()),
});

const unavailable = () =>
  new AppError('upstream_unavailable', 'the catalog could not be reached; retry', {
    headers: { 'retry-after': '1' },
  });

/** The catalog's batch call over Dapr invocation: one per request, whatever the cart holds. */
export function catalogViaDapr(
  sidecar: Pick<Sidecar, 'invoke'>,
  logger: Logger,
  appId = 'catalog',
): CatalogClient {
  return {
    async productsByIds(ids) {
      if (ids.length === 0) return { items: [], missing: [] };
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
        logger.warn('catalog answered the batch lookup unusably', { status: res.status });
        throw unavailable();
      }
      return parsed.data;
    },
  };
}
