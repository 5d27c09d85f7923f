import { randomUUID } from 'node:crypto';
import { databaseBackends } from '@shop/devkit/testing';
import type { Problem } from '@shop/platform';
import { describe, expect, it } from 'vitest';
import { orderEvents, usePaymentsApp } from '../test-support.ts';
import type { PaymentView } from './schemas.ts';

type Page = { items: PaymentView[]; nextCursor: string | null };

describe.each(databaseBackends)('GET /api/v1/admin/payments on %s', (backend) => {
  const payments = usePaymentsApp(backend);
  const ctx = { payments, ...paymentListHelpers(payments) };

  listCases(ctx);
  pagingCases(ctx);
  accessAndInputCases(ctx);
});

type PaymentsApp = ReturnType<typeof usePaymentsApp>;
type Ctx = { payments: PaymentsApp } & ReturnType<typeof paymentListHelpers>;

/** The admin listing call, and an order with a charge and its refund to list. */
function paymentListHelpers(payments: PaymentsApp) {
  const list = async (query: string, role: 'admin' | 'customer' = 'admin') =>
    payments.call('GET', `/api/v1/admin/payments${query}`, {
      token: await payments.issueToken(role),
    });

  /** An order charged and then cancelled: a charge and its refund. */
  const chargedAndRefunded = async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId, { total: 1_250 });
    await payments.deliver(events.created);
    await payments.deliver(events.reserved);
    await payments.deliver(events.cancelled);
    return orderId;
  };
  return { list, chargedAndRefunded };
}

function listCases({ payments, list, chargedAndRefunded }: Ctx) {
  it('lists an order’s charge and refund, newest first', async () => {
    const orderId = await chargedAndRefunded();
    const res = await list(`?orderId=${orderId}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as Page;
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((item) => item.kind)).toEqual(['refund', 'charge']);
    for (const item of page.items) {
      expect(item).toMatchObject({
        orderId,
        amount: 1_250,
        currency: 'USD',
        status: 'succeeded',
        provider: 'test',
        failureReason: null,
      });
      expect(item.providerRef).toEqual(expect.any(String));
    }
  });

  it('shows why a charge failed', async () => {
    const orderId = randomUUID();
    const events = orderEvents(orderId, { paymentMethod: 'pm_card_insufficientFunds' });
    await payments.deliver(events.created);
    await payments.deliver(events.reserved);
    const page = (await (await list(`?orderId=${orderId}`)).json()) as Page;
    expect(page.items).toEqual([
      expect.objectContaining({
        kind: 'charge',
        status: 'failed',
        providerRef: null,
        failureReason: 'insufficient_funds',
      }),
    ]);
  });
}

function pagingCases({ list, chargedAndRefunded }: Ctx) {
  it('pages through every payment with limit and cursor, each once', async () => {
    await chargedAndRefunded();
    await chargedAndRefunded();
    const everything = (await (await list('?limit=100')).json()) as Page;
    expect(everything.items.length).toBeGreaterThanOrEqual(4);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await list(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(everything.items.map((item) => item.id));
  });
}

function accessAndInputCases({ payments, list }: Ctx) {
  it('refuses a customer with 403 and a caller without a token with 401', async () => {
    const forbidden = await list('', 'customer');
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toBe('application/problem+json');
    const anonymous = await payments.call('GET', '/api/v1/admin/payments');
    expect(anonymous.status).toBe(401);
  });

  it.each([
    ['an order id that is no uuid', '?orderId=42', 'orderId'],
    ['a limit over 100', '?limit=101', 'limit'],
    ['a cursor it never issued', '?cursor=bm90LWEtY3Vyc29y', 'cursor'],
  ])('answers 400 naming the field for %s', async (_case, query, field) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.errors?.map((error) => error.path)).toContain(field);
  });
}
