import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('orders_to_charge')
    .addColumn('order_id', 'uuid', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('total', 'bigint', (col) => col.notNull().check(sql`total >= 0`))
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('payment_method', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('cancelled_orders')
    .addColumn('order_id', 'uuid', (col) => col.primaryKey())
    .addColumn('cancelled_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('payments')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('order_id', 'uuid', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('charge', 'refund')`))
    .addColumn('amount', 'bigint', (col) => col.notNull().check(sql`amount >= 0`))
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('pending', 'succeeded', 'failed')`),
    )
    .addColumn('provider', 'text', (col) => col.notNull())
    .addColumn('provider_ref', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    // What makes a charge, and a refund, happen at most once per order.
    .addUniqueConstraint('payments_one_per_order_and_kind', ['order_id', 'kind'])
    .execute();
  // The admin listing pages through everything newest first.
  await db.schema
    .createIndex('payments_newest_first')
    .on('payments')
    .columns(['created_at desc', 'id desc'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['payments', 'cancelled_orders', 'orders_to_charge']) {
    await db.schema.dropTable(table).execute();
  }
}
