import { pollUntil } from '@shop/devkit/process';
import type { TestShop } from '@shop/devkit/testing';
import { buildEvent } from '@shop/platform';
import pg from 'pg';
import { type LoadResult, runLoad } from './load.ts';
import { createProducts } from './shop.ts';

const words = [
  'running',
  'trail',
  'walking',
  'leather',
  'canvas',
  'waterproof',
  'lightweight',
  'classic',
  'shoe',
  'boot',
  'sandal',
  'jacket',
  'shirt',
  'backpack',
  'lamp',
  'kettle',
  'blanket',
  'chair',
  'wool',
  'cotton',
  'steel',
  'oak',
  'travel',
  'kitchen',
  'garden',
  'winter',
  'summer',
  'kids',
];
const categories = ['shoes', 'outdoor', 'home', 'kitchen', 'clothing', 'travel'];

/**
 * Writes `count` products straight into the catalog's database in one statement: seeding
 * 10,000 through the API would measure the seeding's event cascade, not the reads. Names
 * and descriptions are drawn from a small vocabulary so searches match hundreds of rows.
 */
export async function seedProducts(shop: TestShop, count: number): Promise<string[]> {
  const url = shop.postgres?.url('catalog');
  if (!url) throw new Error('the catalog bench needs the PostgreSQL default');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `insert into products (id, sku, name, description, category, price, currency, available,
         stock_version, version, created_at, updated_at)
       select gen_random_uuid(), 'BENCH-' || n,
         initcap(($1::text[])[1 + n % 28]) || ' ' || ($1::text[])[1 + (n / 28) % 28] || ' ' || n,
         'A ' || ($1::text[])[1 + (n / 7) % 28] || ' ' || ($1::text[])[1 + (n / 3) % 28] || ' for every day',
         ($2::text[])[1 + n % 6], 500 + (n * 37) % 20000, 'USD', n % 50, 1, 1,
         now() - make_interval(secs => n), now()
       from generate_series(1, $3::int) as n
       returning id`,
      [words, categories, count],
    );
    await client.query('analyze products');
    return rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}

export async function benchReads(
  shop: TestShop,
  ids: string[],
  options: { concurrency: number; seconds: number },
): Promise<{ hit: LoadResult; miss: LoadResult; search: LoadResult }> {
  const base = shop.gatewayUrl as string;
  // One product per client, read again and again: after the first read every one is a hit.
  const hit = await runLoad(
    (client) => ({ url: `${base}/api/v1/products/${ids[client]}` }),
    options,
  );
  // Every read a product nobody read before: the cache misses and the database answers.
  let next = options.concurrency;
  const miss = await runLoad(
    () => ({ url: `${base}/api/v1/products/${ids[next++ % ids.length]}` }),
    options,
  );
  let query = 0;
  const search = await runLoad(() => {
    const q = `${words[query % words.length]} ${words[(query * 7 + 3) % words.length]}`;
    query++;
    return { url: `${base}/api/v1/products?q=${encodeURIComponent(q)}&limit=20` };
  }, options);
  return { hit, miss, search };
}

/** `count` one-unit order.created events, over `productIds` in turn. */
function orderCreatedEvents(productIds: string[], count: number) {
  return Array.from({ length: count }, (_, i) =>
    buildEvent(
      'order.created',
      {
        orderId: crypto.randomUUID(),
        userId: 'bench',
        items: [
          { productId: productIds[i % productIds.length] as string, quantity: 1, unitPrice: 1_000 },
        ],
        total: 1_000,
        currency: 'USD',
        paymentMethod: 'pm_card_visa',
        createdAt: new Date().toISOString(),
      },
      { source: 'orders' },
    ),
  );
}

/** Publishes `events` through the gateway's sidecar, `width` at once, each batch after the last. */
async function publishInBatches(
  shop: TestShop,
  events: ReturnType<typeof buildEvent>[],
  width: number,
): Promise<void> {
  for (let i = 0; i < events.length; i += width) {
    await Promise.all(events.slice(i, i + width).map((event) => shop.publish(event, 'gateway')));
  }
}

/**
 * Reservations per second: `orders` one-unit orders published at once over `products`
 * products of 100 units each, timed from the first publish until inventory has reserved
 * or rejected every one (its stock shows them all reserved).
 */
export async function benchReservations(
  shop: TestShop,
  adminToken: string,
  options: { products: number; orders: number },
): Promise<{ orders: number; seconds: number; perSecond: number }> {
  const productIds = await createProducts(shop, adminToken, {
    count: options.products,
    stock: 100,
    label: (i) => ({ sku: `RESERVE-${i}`, name: `Reservation bench ${i}` }),
  });
  const stockOf = async (id: string) => {
    const res = await shop.send('GET', `/api/v1/products/${id}/stock`, { token: adminToken });
    return res.ok ? ((await res.json()) as { reserved: number }) : undefined;
  };
  await pollUntil(
    async () => ((await Promise.all(productIds.map(stockOf))).every(Boolean) ? true : undefined),
    { what: "inventory to open every bench product's stock", timeoutMs: 20_000 },
  );

  const events = orderCreatedEvents(productIds, options.orders);
  const expectedReserved = Math.min(options.orders, options.products * 100);
  const started = performance.now();
  await publishInBatches(shop, events, 50);
  await pollUntil(
    async () => {
      const stocks = await Promise.all(productIds.map(stockOf));
      const reserved = stocks.reduce((sum, stock) => sum + (stock?.reserved ?? 0), 0);
      return reserved === expectedReserved ? true : undefined;
    },
    { timeoutMs: 300_000, intervalMs: 50, what: 'inventory to reserve every order' },
  );
  const seconds = (performance.now() - started) / 1000;
  return { orders: options.orders, seconds, perSecond: options.orders / seconds };
}
