import { randomUUID } from 'node:crypto';
import { databaseBackends, seriesValue } from '@shop/devkit/testing';
import { describe, expect, it } from 'vitest';
import { distinctKeys, orderEvents, usePaymentsApp } from '../test-support.ts';
import { refundIdempotencyKey } from './service.ts';

describe.each(databaseBackends)('payment events on %s', (backend) => {
  const payments = usePaymentsApp(backend);

  const ctx = { payments, ...paymentEventHelpers(payments) };

  chargeCases(ctx);
  duplicateDeliveryCases(ctx);
  declineAndOrderingCases(ctx);
  refundCases(ctx);
  cancelledDuringChargeCases(ctx);
  processorOutageCases(ctx);
  schemaCases(ctx);
  metricsCases(ctx);
});

type PaymentsApp = ReturnType<typeof usePaymentsApp>;
type Ctx = { payments: PaymentsApp } & ReturnType<typeof paymentEventHelpers>;

/** Views of what one order's events led to: rows, processor calls, published events. */
function paymentEventHelpers(payments: PaymentsApp) {
  /** What the processor was asked about one order: calls, retries included. */
  const providerCalls = (orderId: string) => ({
    charges: payments.charges.filter((charge) => charge.orderId === orderId),
    refunds: payments.refunds.filter(
      (refund) => refund.idempotencyKey === refundIdempotencyKey(orderId),
    ),
  });

  /** The events published about one order, once the outbox has sent everything. */
  const publishedFor = async (orderId: string) => {
    await payments.get().outbox.drain();
    return payments.published.filter(
      (event) => 'orderId' in event.data && event.data.orderId === orderId,
    );
  };

  const rowsFor = (orderId: string) =>
    payments
      .get()
      .db.selectFrom('payments')
      .selectAll()
      .where('order_id', '=', orderId)
      .orderBy('created_at')
      .execute();
  return { providerCalls, publishedFor, rowsFor };
}

function chargeCases({ payments, providerCalls, publishedFor, rowsFor }: Ctx) {
  it('charges the order’s total once its stock is reserved, and says so', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId, { total: 4_200 });
    expect(await payments.deliver(events.created)).toBe('SUCCESS');
    expect(await payments.deliver(events.reserved)).toBe('SUCCESS');

    const [charge, ...others] = await rowsFor(orderId);
    expect(others).toEqual([]);
    expect(charge).toMatchObject({ kind: 'charge', status: 'succeeded', provider: 'test' });
    expect(Number(charge?.amount)).toBe(4_200);
    expect(providerCalls(orderId).charges).toEqual([
      {
        orderId,
        amount: 4_200,
        currency: 'USD',
        paymentMethod: 'pm_card_visa',
        idempotencyKey: orderId,
      },
    ]);
    const published = await publishedFor(orderId);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: 'payment.succeeded',
      source: 'payments',
      data: {
        orderId,
        paymentId: charge?.id,
        amount: 4_200,
        currency: 'USD',
        provider: 'test',
        providerRef: charge?.provider_ref,
      },
    });
  });
}

function duplicateDeliveryCases({ payments, providerCalls, publishedFor, rowsFor }: Ctx) {
  it('charges once however often stock.reserved is redelivered', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    await payments.deliver(events.created);
    for (let i = 0; i < 3; i++) expect(await payments.deliver(events.reserved)).toBe('SUCCESS');
    // Another event about the same reservation (a producer's retry with a new id) too.
    const again = orderEvents(orderId).reserved;
    expect(await payments.deliver(again)).toBe('SUCCESS');

    expect(await rowsFor(orderId)).toHaveLength(1);
    expect(providerCalls(orderId).charges).toHaveLength(1);
    expect((await publishedFor(orderId)).map((event) => event.type)).toEqual(['payment.succeeded']);
  });

  it('charges once when duplicates are delivered at the same time', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    await payments.deliver(events.created);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => payments.deliver(events.reserved)),
    );
    expect(answers).toEqual(Array(5).fill('SUCCESS'));

    expect(await rowsFor(orderId)).toHaveLength(1);
    // Racing deliveries may each ask the processor, always with the one key: one charge.
    expect(distinctKeys(providerCalls(orderId).charges)).toBe(1);
    expect((await publishedFor(orderId)).map((event) => event.type)).toEqual(['payment.succeeded']);
  });
}

function declineAndOrderingCases({ payments, providerCalls, publishedFor, rowsFor }: Ctx) {
  it.each([
    ['pm_card_chargeDeclined', 'card_declined'],
    ['pm_card_insufficientFunds', 'insufficient_funds'],
  ] as const)('publishes payment.failed when %s is declined: %s', async (paymentMethod, reason) => {
    const orderId = randomUUID();
    const events = orderEvents(orderId, { paymentMethod });
    await payments.deliver(events.created);
    expect(await payments.deliver(events.reserved)).toBe('SUCCESS');
    expect(await payments.deliver(events.reserved)).toBe('SUCCESS');

    const rows = await rowsFor(orderId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'failed', failure_reason: reason, provider_ref: null });
    const published = await publishedFor(orderId);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ type: 'payment.failed', data: { orderId, reason } });
  });

  it('asks for stock.reserved again until order.created has arrived', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    expect(await payments.deliver(events.reserved)).toBe('RETRY');
    expect(await rowsFor(orderId)).toEqual([]);
    expect(providerCalls(orderId).charges).toEqual([]);

    expect(await payments.deliver(events.created)).toBe('SUCCESS');
    expect(await payments.deliver(events.reserved)).toBe('SUCCESS');
    expect(await rowsFor(orderId)).toHaveLength(1);
  });

  it('never charges an order cancelled before its charge started', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    await payments.deliver(events.created);
    expect(await payments.deliver(events.cancelled)).toBe('SUCCESS');
    expect(await payments.deliver(events.reserved)).toBe('SUCCESS');

    expect(await rowsFor(orderId)).toEqual([]);
    expect(providerCalls(orderId).charges).toEqual([]);
    expect(await publishedFor(orderId)).toEqual([]);
  });

  it('never charges an order whose cancellation came even before the order', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    expect(await payments.deliver(events.cancelled)).toBe('SUCCESS');
    expect(await payments.deliver(events.created)).toBe('SUCCESS');
    expect(await payments.deliver(events.reserved)).toBe('SUCCESS');

    expect(await rowsFor(orderId)).toEqual([]);
    expect(providerCalls(orderId).charges).toEqual([]);
  });
}

function refundCases({ payments, providerCalls, publishedFor, rowsFor }: Ctx) {
  it('refunds a charged order that is cancelled, exactly once', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId, { total: 1_999 });
    await payments.deliver(events.created);
    await payments.deliver(events.reserved);
    expect(await payments.deliver(events.cancelled)).toBe('SUCCESS');
    expect(await payments.deliver(events.cancelled)).toBe('SUCCESS');
    const another = orderEvents(orderId).cancelled;
    expect(await payments.deliver(another)).toBe('SUCCESS');

    const [charge, refund, ...others] = await rowsFor(orderId);
    expect(others).toEqual([]);
    expect(refund).toMatchObject({ kind: 'refund', status: 'succeeded', currency: 'USD' });
    expect(Number(refund?.amount)).toBe(1_999);
    expect(providerCalls(orderId).refunds).toEqual([
      {
        chargeRef: charge?.provider_ref,
        amount: 1_999,
        idempotencyKey: refundIdempotencyKey(orderId),
      },
    ]);
    const published = await publishedFor(orderId);
    expect(published.map((event) => event.type)).toEqual(['payment.succeeded', 'payment.refunded']);
    expect(published[1]?.data).toMatchObject({
      orderId,
      paymentId: charge?.id,
      refundId: refund?.id,
      amount: 1_999,
      currency: 'USD',
    });
  });

  it('does not refund a charge that was declined', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId, { paymentMethod: 'pm_card_chargeDeclined' });
    await payments.deliver(events.created);
    await payments.deliver(events.reserved);
    expect(await payments.deliver(events.cancelled)).toBe('SUCCESS');

    expect((await rowsFor(orderId)).map((row) => row.kind)).toEqual(['charge']);
    expect(providerCalls(orderId).refunds).toEqual([]);
  });
}

function cancelledDuringChargeCases({ payments, providerCalls, publishedFor, rowsFor }: Ctx) {
  it('refunds a charge that succeeds after the order was cancelled during it', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    await payments.deliver(events.created);
    const hold = payments.holdCharges();
    const charging = payments.deliver(events.reserved);
    await hold.waiting(1);
    // The cancellation is recorded while the charge is at the processor; its delivery then
    // drives the same charge (same key) and waits at the processor too.
    const cancelling = payments.deliver(events.cancelled);
    await hold.waiting(2);
    hold.release();
    expect(await charging).toBe('SUCCESS');
    expect(await cancelling).toBe('SUCCESS');

    const rows = await rowsFor(orderId);
    expect(rows.map((row) => [row.kind, row.status])).toEqual([
      ['charge', 'succeeded'],
      ['refund', 'succeeded'],
    ]);
    // Both deliveries drove the order to its end, each time with the one key per kind.
    expect(distinctKeys(providerCalls(orderId).charges)).toBe(1);
    expect(distinctKeys(providerCalls(orderId).refunds)).toBe(1);
    expect((await publishedFor(orderId)).map((event) => event.type)).toEqual([
      'payment.succeeded',
      'payment.refunded',
    ]);
  });
}

function processorOutageCases({ payments, providerCalls, publishedFor, rowsFor }: Ctx) {
  it('rides out a processor blip in process, without a second charge', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    await payments.deliver(events.created);
    payments.failNextCalls(2);
    expect(await payments.deliver(events.reserved)).toBe('SUCCESS');

    expect(providerCalls(orderId).charges).toHaveLength(3);
    expect(distinctKeys(providerCalls(orderId).charges)).toBe(1);
    expect((await publishedFor(orderId)).map((event) => event.type)).toEqual(['payment.succeeded']);
  });

  it('asks for redelivery through a longer outage and resumes the same pending charge', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    await payments.deliver(events.created);
    payments.failNextCalls(3);
    expect(await payments.deliver(events.reserved)).toBe('RETRY');
    expect((await rowsFor(orderId)).map((row) => row.status)).toEqual(['pending']);
    expect(await publishedFor(orderId)).toEqual([]);

    expect(await payments.deliver(events.reserved)).toBe('SUCCESS');
    expect((await rowsFor(orderId)).map((row) => row.status)).toEqual(['succeeded']);
    expect(distinctKeys(providerCalls(orderId).charges)).toBe(1);
    expect((await publishedFor(orderId)).map((event) => event.type)).toEqual(['payment.succeeded']);
  });

  it('resumes a refund the processor could not take when the cancellation is redelivered', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId);
    await payments.deliver(events.created);
    await payments.deliver(events.reserved);
    payments.failNextCalls(3);
    expect(await payments.deliver(events.cancelled)).toBe('RETRY');
    expect((await rowsFor(orderId)).map((row) => [row.kind, row.status])).toEqual([
      ['charge', 'succeeded'],
      ['refund', 'pending'],
    ]);

    expect(await payments.deliver(events.cancelled)).toBe('SUCCESS');
    expect((await rowsFor(orderId)).map((row) => row.status)).toEqual(['succeeded', 'succeeded']);
    expect(distinctKeys(providerCalls(orderId).refunds)).toBe(1);
    expect((await publishedFor(orderId)).map((event) => event.type)).toEqual([
      'payment.succeeded',
      'payment.refunded',
    ]);
  });
}

function schemaCases({ payments }: Ctx) {
  it('drops an event that breaks its schema, and writes nothing', async () => {
    const orderId = randomUUID();
    const { created } = orderEvents(orderId);
    const broken = { ...created, data: { ...created.data, total: -1 } };
    expect(await payments.deliver(broken)).toBe('DROP');
    expect(await payments.deliver(created, 'stock.reserved')).toBe('DROP');
    const stored = await payments
      .get()
      .db.selectFrom('orders_to_charge')
      .selectAll()
      .where('order_id', '=', orderId)
      .execute();
    expect(stored).toEqual([]);
  });
}

function metricsCases({ payments }: Ctx) {
  const counts = async () => {
    const { app } = payments.get();
    const charges = (outcome: string) => seriesValue(app, 'payments_charges_total', { outcome });
    return {
      succeeded: (await charges('succeeded')) ?? 0,
      declined: (await charges('declined')) ?? 0,
      error: (await charges('error')) ?? 0,
      refunds: (await seriesValue(app, 'payments_refunds_total')) ?? 0,
    };
  };
  const delta = async (before: Awaited<ReturnType<typeof counts>>) => {
    const after = await counts();
    return {
      succeeded: after.succeeded - before.succeeded,
      declined: after.declined - before.declined,
      error: after.error - before.error,
      refunds: after.refunds - before.refunds,
    };
  };

  it('counts a charge and its refund once each, however often their events come', async () => {
    const events = orderEvents(randomUUID());
    const before = await counts();
    await payments.deliver(events.created);
    for (let i = 0; i < 2; i++) expect(await payments.deliver(events.reserved)).toBe('SUCCESS');
    for (let i = 0; i < 2; i++) expect(await payments.deliver(events.cancelled)).toBe('SUCCESS');
    expect(await delta(before)).toEqual({ succeeded: 1, declined: 0, error: 0, refunds: 1 });
  });

  it('counts a declined charge as declined, and an unanswered attempt as error', async () => {
    const declined = orderEvents(randomUUID(), { paymentMethod: 'pm_card_chargeDeclined' });
    const before = await counts();
    await payments.deliver(declined.created);
    expect(await payments.deliver(declined.reserved)).toBe('SUCCESS');
    expect(await delta(before)).toEqual({ succeeded: 0, declined: 1, error: 0, refunds: 0 });

    const unanswered = orderEvents(randomUUID());
    const beforeOutage = await counts();
    await payments.deliver(unanswered.created);
    payments.failNextCalls(3);
    expect(await payments.deliver(unanswered.reserved)).toBe('RETRY');
    expect(await payments.deliver(unanswered.reserved)).toBe('SUCCESS');
    expect(await delta(beforeOutage)).toEqual({ succeeded: 1, declined: 0, error: 1, refunds: 0 });
  });
}
