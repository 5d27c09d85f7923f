import type { PlatformTables } from '@shop/platform/db';
import type { ColumnType, Generated } from 'kysely';

export type ProductsTable = {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  /** Minor units of `currency`. */
  price: number;
  currency: string;
  /** A replica of inventory's count, kept by stock.changed. */
  available: number;
  /** The inventory version `available` came from; older stock events are ignored. */
  stock_version: Generated<number>;
  /** Grows by one with every change: the ETag, and the read cache's guard. */
  version: Generated<number>;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
  deleted_at: Date | null;
  search_vector: ColumnType<string, never, never>;
};

export type WishlistItemsTable = {
  user_id: string;
  product_id: string;
  added_at: Date;
};

export type CatalogTables = PlatformTables & {
  products: ProductsTable;
  wishlist_items: WishlistItemsTable;
};
