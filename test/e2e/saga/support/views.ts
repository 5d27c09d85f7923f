import {
  createProductWithStock,
  type OrderView,
  type PaymentView,
  placeOrder,
  type TimelineEntry,
  waitForSettled,
} from '@shop/devkit/testing';
import { expect } from 'vitest';
import type { SagaShop } from './shop.ts';

/** The payments of one kind that succeeded. */
export const succeeded = (payments: PaymentView[], kind: PaymentView['kind']) =>
  payments.filter((p) => p.kind === kind && p.status === 'succeeded');

/** The steps of a timeline, in order. */
export const stepsOf = (timeline: TimelineEntry[]) => timeline.map((entry) => entry.step);

/** The event id that made `step` on a timeline; throws, naming the steps, when absent. */
export const idOf = (timeline: TimelineEntry[], step: string) => {
  const entry = timeline.find((e) => e.step === step);
  if (!entry) throw new Error(`no ${step} on the timeline: ${stepsOf(timeline).join(', ')}`);
  return entry.eventId;
};

/** How many times `step` is on a timeline. */
export const countOf = (timeline: TimelineEntry[], step: string) =>
  stepsOf(timeline).filter((s) => s === step).length;

/** A new product with `stock` units, one order of `quantity` for it, settled. */
export async function settledOrder(
  { shop, adminToken, token }: SagaShop,
  options: {
    sku: string;
    stock: number;
    quantity: number;
    paymentMethod: string;
    timeoutMs?: number;
  },
): Promise<{ productId: string; order: OrderView; settled: OrderView }> {
  const product = await createProductWithStock(shop, adminToken, {
    sku: options.sku,
    stock: options.stock,
  });
  const { order } = await placeOrder(shop, token, {
    items: [{ productId: product.id, quantity: options.quantity }],
    paymentMethod: options.paymentMethod,
  });
  const settled = await waitForSettled(shop, token, order.id, { timeoutMs: options.timeoutMs });
  return { productId: product.id, order, settled };
}

/** Each entry of `original` is on `timeline` exactly once. */
export function expectEachOnce(timeline: TimelineEntry[], original: TimelineEntry[]): void {
  for (const entry of original) {
    expect(timeline.filter((e) => e.eventId === entry.eventId)).toHaveLength(1);
  }
}
