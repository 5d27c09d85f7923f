import { randomUUID } from 'node:crypto';
import {
  AppError,
  buildEvent,
  decodeCursor,
  encodeCursor,
  keysetPage,
  type Logger,
  pgInteger,
} from '@shop/platform';
import { enqueueEvent, type OutboxRelay } from '@shop/platform/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { serviceName } from '../config.ts';
import type { CatalogTables } from '../tables.ts';
import type { ProductCache, VersionedProduct } from './cache.ts';
import {
  findLiveProduct,
  findLiveProducts,
  insertProduct,
  lockLiveProduct,
  type Product,
  softDeleteProduct,
  updateProductFields,
} from './repository.ts';
import type {
  NewProduct,
  ProductChanges,
  ProductQuery,
  ProductSort,
  ProductView,
} from './schemas.ts';
import { positionOf, type SearchPosition, searchProducts } from './search.ts';

export type ProductsDeps = {
  db: Kysely<CatalogTables>;
  outbox: Pick<OutboxRelay, 'wake'>;
  logger: Logger;
  cache: ProductCache;
  config: { SHOP_CURRENCY: string };
};

export function toProductView(product: Product): ProductView {
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    category: product.category,
    price: product.price,
    currency: product.currency,
    available: product.available,
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
  };
}

const versioned = (product: Product): VersionedProduct => ({
  product: toProductView(product),
  version: product.version,
});

/** A strong validator: the row version changes with every change of what a reader sees. */
export function etagOf(version: number): string {
  return `"v${version}"`;
}

function requireShopCurrency(deps: Pick<ProductsDeps, 'config'>, currency: string | undefined) {
  if (currency !== undefined && currency !== deps.config.SHOP_CURRENCY) {
    throw new AppError('unprocessable', `the shop sells in ${deps.config.SHOP_CURRENCY} only`, {
      errors: [{ path: 'currency', message: `must be ${deps.config.SHOP_CURRENCY}` }],
    });
  }
}

const notFound = () => new AppError('not_found', 'no such product');

/** Creates the product and its `product.created` event (inventory starts its stock from it) in one transaction. */
export async function createProduct(
  deps: ProductsDeps,
  input: NewProduct,
): Promise<VersionedProduct> {
  requireShopCurrency(deps, input.currency);
  const now = new Date();
  const product: Omit<Product, 'version'> = {
    id: randomUUID(),
    sku: input.sku,
    name: input.name,
    description: input.description,
    category: input.category,
    price: input.price,
    currency: input.currency,
    available: input.stock,
    createdAt: now,
    updatedAt: now,
  };
  await deps.db.transaction().execute(async (trx) => {
    if ((await insertProduct(trx, product)) === 'sku_taken') {
      throw new AppError('conflict', 'a product with that sku exists');
    }
    const data = {
      productId: product.id,
      sku: product.sku,
      name: product.name,
      category: product.category,
      price: product.price,
      currency: product.currency,
      initialStock: input.stock,
      createdAt: now.toISOString(),
    };
    await enqueueEvent(trx, buildEvent('product.created', data, { source: serviceName }));
  });
  deps.outbox.wake();
  deps.logger.info('product created', { productId: product.id, sku: product.sku });
  return versioned({ ...product, version: 1 });
}

export async function getProduct(
  deps: Pick<ProductsDeps, 'db' | 'cache'>,
  id: string,
): Promise<VersionedProduct> {
  const found = await deps.cache.read(id, async () => {
    const product = await findLiveProduct(deps.db, id);
    return product && versioned(product);
  });
  if (!found) throw notFound();
  return found;
}

/** Does `ifMatch` (a list of entity tags, or `*`) name `version`? Strong comparison, as If-Match requires. */
function matchesIfMatch(ifMatch: string, version: number): boolean {
  const tags = ifMatch.split(',').map((tag) => tag.trim());
  return tags.includes('*') || tags.includes(etagOf(version));
}

/** Does `ifNoneMatch` name `version`? Weak comparison, as If-None-Match allows. */
export function matchesIfNoneMatch(ifNoneMatch: string, version: number): boolean {
  const tags = ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(etagOf(version));
}

/**
 * Applies the changes that differ from the product as it is, under `If-Match` when given,
 * with a `product.updated` event (both prices) when anything changed.
 */
export async function updateProduct(
  deps: ProductsDeps,
  id: string,
  changes: ProductChanges,
  ifMatch: string | undefined,
): Promise<VersionedProduct> {
  requireShopCurrency(deps, changes.currency);
  const updated = await deps.db.transaction().execute(async (trx) => {
    const current = await lockLiveProduct(trx, id);
    if (!current) throw notFound();
    if (ifMatch !== undefined && !matchesIfMatch(ifMatch, current.version)) {
      throw new AppError('precondition_failed', 'the product has changed since that ETag');
    }
    const changed = Object.fromEntries(
      Object.entries(changes).filter(
        ([field, value]) => value !== undefined && current[field as keyof ProductChanges] !== value,
      ),
    ) as ProductChanges;
    if (Object.keys(changed).length === 0) return { product: current, changed: false };
    const product = await updateProductFields(trx, id, changed, new Date());
    const data = {
      productId: product.id,
      name: product.name,
      category: product.category,
      previousPrice: current.price,
      price: product.price,
      currency: product.currency,
      updatedAt: product.updatedAt.toISOString(),
    };
    await enqueueEvent(trx, buildEvent('product.updated', data, { source: serviceName }));
    return { product, changed: true };
  });
  if (updated.changed) {
    deps.outbox.wake();
    // After the commit, before the answer: no read after this 200 can find the old product.
    await deps.cache.invalidate(id, updated.product.version);
    deps.logger.info('product updated', { productId: id, version: updated.product.version });
  }
  return versioned(updated.product);
}

export async function deleteProduct(deps: ProductsDeps, id: string): Promise<void> {
  const deletedAt = new Date();
  const version = await deps.db.transaction().execute(async (trx) => {
    const version = await softDeleteProduct(trx, id, deletedAt);
    if (version === undefined) throw notFound();
    const data = { productId: id, deletedAt: deletedAt.toISOString() };
    await enqueueEvent(trx, buildEvent('product.deleted', data, { source: serviceName }));
    return version;
  });
  deps.outbox.wake();
  await deps.cache.invalidate(id, version);
  deps.logger.info('product deleted', { productId: id });
}

const cursorSchema = z.discriminatedUnion('sort', [
  z.object({
    sort: z.literal('relevance'),
    rank: z.number().min(0),
    similarity: z.number().min(0).max(1),
    id: z.uuid(),
  }),
  z.object({ sort: z.literal('newest'), createdAt: z.iso.datetime(), id: z.uuid() }),
  z.object({ sort: z.enum(['price', '-price']), price: pgInteger.min(0), id: z.uuid() }),
]);

function encodePosition(sort: ProductSort, position: SearchPosition): string {
  const [first, second] = position.keys;
  switch (sort) {
    case 'relevance':
      return encodeCursor({
        sort,
        rank: Number(first),
        similarity: Number(second),
        id: position.id,
      });
    case 'newest':
      return encodeCursor({ sort, createdAt: String(first), id: position.id });
    default:
      return encodeCursor({ sort, price: Number(first), id: position.id });
  }
}

function decodePosition(cursor: string, sort: ProductSort): SearchPosition {
  const decoded = decodeCursor(cursor, cursorSchema);
  if (decoded.sort !== sort) {
    throw new AppError('validation_failed', 'the cursor belongs to another sort order', {
      errors: [{ path: 'cursor', message: `issued for sort=${decoded.sort}` }],
    });
  }
  switch (decoded.sort) {
    case 'relevance':
      return { keys: [decoded.rank, decoded.similarity], id: decoded.id };
    case 'newest':
      return { keys: [decoded.createdAt], id: decoded.id };
    default:
      return { keys: [decoded.price], id: decoded.id };
  }
}

export async function listProducts(
  deps: Pick<ProductsDeps, 'db'>,
  query: ProductQuery,
): Promise<{ items: ProductView[]; nextCursor: string | null }> {
  const sort = query.sort ?? (query.q ? 'relevance' : 'newest');
  const { rows, nextCursor } = await keysetPage(
    query.limit,
    (limit) =>
      searchProducts(deps.db, {
        q: query.q,
        category: query.category,
        minPrice: query.minPrice,
        maxPrice: query.maxPrice,
        inStock: query.inStock,
        sort,
        limit,
        after: query.cursor ? decodePosition(query.cursor, sort) : undefined,
      }),
    (last) => encodePosition(sort, positionOf(last, sort)),
  );
  return { items: rows.map(toProductView), nextCursor };
}

/** Live products by id, for other services (orders prices its lines from it); deleted ones count as missing. */
export async function readProductBatch(
  deps: Pick<ProductsDeps, 'db'>,
  ids: readonly string[],
): Promise<{ items: ProductView[]; missing: string[] }> {
  const unique = [...new Set(ids)];
  const found = new Map((await findLiveProducts(deps.db, unique)).map((p) => [p.id, p]));
  return {
    items: unique.flatMap((id) => {
      const product = found.get(id);
      return product ? [toProductView(product)] : [];
    }),
    missing: unique.filter((id) => !found.has(id)),
  };
}
