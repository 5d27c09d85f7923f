import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('stock')
    .addColumn('product_id', 'uuid', (col) => col.primaryKey())
    // The last line of defence against overselling: the service checks first, under a row lock.
    .addColumn('available', 'integer', (col) => col.notNull().check(sql`available >= 0`))
    .addColumn('reserved', 'integer', (col) => col.notNull().check(sql`reserved >= 0`))
    .addColumn('sold', 'integer', (col) => col.notNull().check(sql`sold >= 0`))
    .addColumn('version', 'integer', (col) => col.notNull().check(sql`version >= 1`))
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('stock_movements')
    .addColumn('id', 'bigint', (col) => col.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('product_id', 'uuid', (col) => col.notNull().references('stock.product_id'))
    .addColumn('reason', 'text', (col) =>
      col
        .notNull()
        .check(sql`reason in ('initial', 'restock', 'adjustment', 'reserve', 'release', 'commit')`),
    )
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('order_id', 'uuid')
    .addColumn('available_delta', 'integer', (col) => col.notNull())
    .addColumn('reserved_delta', 'integer', (col) => col.notNull())
    .addColumn('sold_delta', 'integer', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('stock_movements_product')
    .on('stock_movements')
    .columns(['product_id', 'id'])
    .execute();
  await db.schema
    .createTable('reservations')
    .addColumn('order_id', 'uuid', (col) => col.primaryKey())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('reserved', 'committed', 'released', 'rejected')`),
    )
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('reservation_lines')
    .addColumn('order_id', 'uuid', (col) =>
      col.notNull().references('reservations.order_id').onDelete('cascade'),
    )
    .addColumn('product_id', 'uuid', (col) => col.notNull())
    .addColumn('quantity', 'integer', (col) => col.notNull().check(sql`quantity >= 1`))
    .addPrimaryKeyConstraint('reservation_lines_pkey', ['order_id', 'product_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['reservation_lines', 'reservations', 'stock_movements', 'stock']) {
    await db.schema.dropTable(table).execute();
  }
}
