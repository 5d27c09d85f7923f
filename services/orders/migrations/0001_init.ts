import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createOrders(db);
  await createOrderLines(db);
  await createOrderTimeline(db);
  await createIdempotencyKeys(db);
}

async function createOrders(db: Kysely<unknown>) {
  await db.schema
    .createTable('orders')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('pending', 'confirmed', 'cancelled')`),
    )
    .addColumn('cancel_reason', 'text', (col) =>
      col.check(
        sql`cancel_reason in ('out_of_stock', 'payment_declined', 'customer_request', 'expired')`,
      ),
    )
    .addColumn('total', 'bigint', (col) => col.notNull().check(sql`total >= 0`))
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('payment_method', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    // A cancelled order says why; no other order has a reason.
    .addCheckConstraint(
      'orders_cancel_reason_iff_cancelled',
      sql`(status = 'cancelled') = (cancel_reason is not null)`,
    )
    .execute();
  // The caller's own list and the admin list, both newest first, optionally by status.
  await db.schema
    .createIndex('orders_by_user')
    .on('orders')
    .columns(['user_id', 'created_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('orders_by_status')
    .on('orders')
    .columns(['status', 'created_at desc', 'id desc'])
    .execute();
}

async function createOrderLines(db: Kysely<unknown>) {
  await db.schema
    .createTable('order_lines')
    .addColumn('order_id', 'uuid', (col) =>
      col.notNull().references('orders.id').onDelete('cascade'),
    )
    .addColumn('position', 'integer', (col) => col.notNull())
    .addColumn('product_id', 'uuid', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('quantity', 'integer', (col) => col.notNull().check(sql`quantity between 1 and 100`))
    .addColumn('unit_price', 'bigint', (col) => col.notNull().check(sql`unit_price >= 0`))
    .addPrimaryKeyConstraint('order_lines_pk', ['order_id', 'position'])
    .addUniqueConstraint('order_lines_one_per_product', ['order_id', 'product_id'])
    .execute();
}

async function createOrderTimeline(db: Kysely<unknown>) {
  await db.schema
    .createTable('order_timeline')
    .addColumn('order_id', 'uuid', (col) =>
      col.notNull().references('orders.id').onDelete('cascade'),
    )
    .addColumn('sequence', 'bigint', (col) => col.generatedAlwaysAsIdentity())
    .addColumn('step', 'text', (col) => col.notNull())
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('detail', 'text')
    .addColumn('at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('order_timeline_pk', ['order_id', 'sequence'])
    .execute();
}

async function createIdempotencyKeys(db: Kysely<unknown>) {
  // Which requests were answered, so a retry with the same key gets the same answer.
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('request_hash', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('in_flight', 'completed')`),
    )
    // Which attempt holds an in-flight key: only that attempt may complete or release it.
    .addColumn('attempt_id', 'uuid', (col) => col.notNull())
    .addColumn('locked_at', 'timestamptz', (col) => col.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('response_location', 'text')
    .addColumn('response_body', 'jsonb')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['user_id', 'key'])
    .execute();
  await db.schema
    .createIndex('idempotency_keys_by_age')
    .on('idempotency_keys')
    .column('created_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['idempotency_keys', 'order_timeline', 'order_lines', 'orders']) {
    await db.schema.dropTable(table).execute();
  }
}
