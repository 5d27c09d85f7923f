import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Trigram similarity on names, for queries with a typo. PostgreSQL ships it in contrib
  // (trusted, so the database owner may create it); PGlite loads it as a module (see
  // src/database.ts).
  await sql`create extension if not exists pg_trgm`.execute(db);
  await createProducts(db);
  await createProductSearch(db);
  await createProductIndexes(db);
  await createWishlistItems(db);
}

async function createProducts(db: Kysely<unknown>) {
  await db.schema
    .createTable('products')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('sku', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('category', 'text', (col) => col.notNull())
    .addColumn('price', 'integer', (col) => col.notNull().check(sql`price > 0`))
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('available', 'integer', (col) => col.notNull().check(sql`available >= 0`))
    // The inventory version `available` was copied from; 0 until the first stock.changed.
    .addColumn('stock_version', 'integer', (col) => col.notNull().defaultTo(0))
    // Grows with every change of the row: the ETag, and what the read cache compares.
    .addColumn('version', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    // Deleted products stay, so orders that name them keep their meaning; readers never see them.
    .addColumn('deleted_at', 'timestamptz')
    .execute();
}

async function createProductSearch(db: Kysely<unknown>) {
  // Two dictionaries per field: English stems ("running" -> run) for matching whole words
  // with stemming, and the unstemmed words ('simple') for prefix matching of the last word
  // typed ("runn" -> running), which the stems would hide. The name weighs A, the description B.
  await sql`alter table products add column search_vector tsvector generated always as (
      setweight(to_tsvector('english', name), 'A') ||
      setweight(to_tsvector('simple', name), 'A') ||
      setweight(to_tsvector('english', description), 'B') ||
      setweight(to_tsvector('simple', description), 'B')
    ) stored`.execute(db);
  await sql`create index products_search on products using gin (search_vector)`.execute(db);
  await sql`create index products_name_trigrams on products using gin (name gin_trgm_ops)`.execute(
    db,
  );
}

async function createProductIndexes(db: Kysely<unknown>) {
  // A deleted product's SKU may be used again.
  await sql`create unique index products_sku_live on products (sku) where deleted_at is null`.execute(
    db,
  );
  await sql`create index products_newest on products (created_at desc, id desc) where deleted_at is null`.execute(
    db,
  );
  await sql`create index products_price on products (price, id) where deleted_at is null`.execute(
    db,
  );
  await sql`create index products_category on products (category) where deleted_at is null`.execute(
    db,
  );
}

async function createWishlistItems(db: Kysely<unknown>) {
  await db.schema
    .createTable('wishlist_items')
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('product_id', 'uuid', (col) =>
      col.notNull().references('products.id').onDelete('cascade'),
    )
    .addColumn('added_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('wishlist_items_pkey', ['user_id', 'product_id'])
    .execute();
  await db.schema
    .createIndex('wishlist_items_product')
    .on('wishlist_items')
    .column('product_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('wishlist_items').execute();
  await db.schema.dropTable('products').execute();
}
