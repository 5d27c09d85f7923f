import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { CatalogTables, ProductsTable } from '../tables.ts';

export type Product = {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  price: number;
  currency: string;
  available: number;
  /** Grows with every change of the row. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

export type Db = Kysely<CatalogTables> | Transaction<CatalogTables>;

export const productColumns = [
  'id',
  'sku',
  'name',
  'description',
  'category',
  'price',
  'currency',
  'available',
  'version',
  'created_at',
  'updated_at',
] as const;

type ProductRow = Pick<Selectable<ProductsTable>, (typeof productColumns)[number]>;

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    price: row.price,
    currency: row.currency,
    available: row.available,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Inserts unless a live product has the SKU; the partial unique index decides, so racing creates cannot both win. */
export async function insertProduct(
  db: Db,
  product: Omit<Product, 'version'>,
): Promise<'inserted' | 'sku_taken'> {
  const inserted = await db
    .insertInto('products')
    .values({
      id: product.id,
      sku: product.sku,
      name: product.name,
      description: product.description,
      category: product.category,
      price: product.price,
      currency: product.currency,
      available: product.available,
      created_at: product.createdAt,
      updated_at: product.updatedAt,
      deleted_at: null,
    })
    .onConflict((oc) => oc.column('sku').where('deleted_at', 'is', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted ? 'inserted' : 'sku_taken';
}

export async function findLiveProduct(db: Db, id: string): Promise<Product | undefined> {
  const row = await db
    .selectFrom('products')
    .select(productColumns)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row && toProduct(row);
}

/** The live product, locked until the transaction ends, so a change computes from what it replaces. */
export async function lockLiveProduct(
  trx: Transaction<CatalogTables>,
  id: string,
): Promise<Product | undefined> {
  const row = await trx
    .selectFrom('products')
    .select(productColumns)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  return row && toProduct(row);
}

export async function findLiveProducts(db: Db, ids: readonly string[]): Promise<Product[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('products')
    .select(productColumns)
    .where('id', 'in', ids)
    .where('deleted_at', 'is', null)
    .execute();
  return rows.map(toProduct);
}

export async function updateProductFields(
  trx: Transaction<CatalogTables>,
  id: string,
  changes: Partial<Pick<Product, 'name' | 'description' | 'category' | 'price' | 'currency'>>,
  updatedAt: Date,
): Promise<Product> {
  const row = await trx
    .updateTable('products')
    .set({ ...changes, updated_at: updatedAt, version: sql`version + 1` })
    .where('id', '=', id)
    .returning(productColumns)
    .executeTakeFirstOrThrow();
  return toProduct(row);
}

/** Marks the product deleted (the row stays for orders that name it) and takes it off every wishlist. */
export async function softDeleteProduct(
  trx: Transaction<CatalogTables>,
  id: string,
  deletedAt: Date,
): Promise<number | undefined> {
  const row = await trx
    .updateTable('products')
    .set({ deleted_at: deletedAt, updated_at: deletedAt, version: sql`version + 1` })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning('version')
    .executeTakeFirst();
  if (!row) return undefined;
  await trx.deleteFrom('wishlist_items').where('product_id', '=', id).execute();
  return row.version;
}

/**
 * Copies inventory's count when `stockVersion` is newer than the one held; an older or
 * repeated one changes nothing. Answers the row's new version when it applied.
 */
export async function applyStockLevel(
  db: Db,
  productId: string,
  stock: { available: number; stockVersion: number },
): Promise<number | undefined> {
  const row = await db
    .updateTable('products')
    .set({
      available: stock.available,
      stock_version: stock.stockVersion,
      version: sql`version + 1`,
    })
    .where('id', '=', productId)
    .where('stock_version', '<', stock.stockVersion)
    .where('deleted_at', 'is', null)
    .returning('version')
    .executeTakeFirst();
  return row?.version;
}

export async function countLiveProductsByCategory(
  db: Db,
): Promise<Array<{ name: string; productCount: number }>> {
  const rows = await db
    .selectFrom('products')
    .select((eb) => ['category', eb.fn.countAll<number>().as('count')])
    .where('deleted_at', 'is', null)
    .groupBy('category')
    .orderBy('category')
    .execute();
  return rows.map((row) => ({ name: row.category, productCount: Number(row.count) }));
}
