/**
 * What the gateway's order, stock and payment APIs answer, as tests and the invariant
 * checker read them, and the walk through a paged listing both need.
 */

export type OrderView = {
  id: string;
  userId: string;
  status: 'pending' | 'confirmed' | 'cancelled';
  cancelReason?: string;
  items: Array<{ productId: string; quantity: number; unitPrice: number }>;
  total: number;
  currency: string;
  createdAt: string;
};
export type StockView = { productId: string; available: number; reserved: number; sold: number };
export type PaymentView = {
  id: string;
  orderId: string;
  kind: 'charge' | 'refund';
  amount: number;
  currency: string;
  status: string;
  provider: string;
  providerRef: string | null;
  createdAt: string;
};
export type TimelineEntry = { step: string; eventId: string; detail?: string; at: string };

/** One page of a cursor-paged listing (`nextCursor` null on the last). */
export type Page<T> = { items: T[]; nextCursor: string | null };

/** Every item of a paged listing: reads page after page, each by the cursor the last gave. */
export async function everyPage<T>(
  readPage: (cursor: string | null) => Promise<Page<T> | undefined>,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> | undefined = await readPage(cursor);
    items.push(...(page?.items ?? []));
    cursor = page?.nextCursor ?? null;
  } while (cursor);
  return items;
}
