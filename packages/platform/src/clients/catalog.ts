import { z } from 'zod';
import type { Sidecar } from '../dapr/sidecar.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** A product as the catalog sells it at this moment. */
export type CatalogProduct = {
  id: string;
  name: string;
  price: number;
  currency: string;
  available: number;
};

/** Some products' current names, prices and stock, in one call. */
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
      available: z.number().int(),
    }),
  ),
  missing: z.array(z.string()),
});

/**
 * The catalog's batch read (`POST /internal/products/batch`) over Dapr invocation: one
 * call however many products are asked for. Anything but a well-formed answer is a 503
 * with `unavailableDetail`, so the client retries; the caller says what was not done.
 *
 * @example
 * const catalog = catalogViaDapr(sidecar, logger, { unavailableDetail: 'nothing was placed; retry' });
 */
export function catalogViaDapr(
  sidecar: Pick<Sidecar, 'invoke'>,
  logger: Logger,
  options: { unavailableDetail: string; appId?: string },
): CatalogClient {
  const unavailable = () =>
    new AppError('upstream_unavailable', options.unavailableDetail, {
      headers: { 'retry-after': '1' },
    });
  return {
    async productsByIds(ids) {
      if (ids.length === 0) return { items: [], missing: [] };
      let res: Response;
      try {
        res = await sidecar.invoke(options.appId ?? 'catalog', '/internal/products/batch', {
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
