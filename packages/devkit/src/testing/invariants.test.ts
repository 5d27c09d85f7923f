import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from './invariants.ts';

// A gateway that serves canned admin answers, one shop state per test.
let answers: Record<string, unknown> = {};
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = answers[req.url?.replace(/[?&]limit=100/, '') ?? ''];
    const authorised = req.headers.authorization === 'Bearer admin-token';
    res.writeHead(!authorised ? 401 : body === undefined ? 404 : 200, {
      'content-type': 'application/json',
    });
    res.end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const product = '00000000-0000-4000-8000-000000000001';
const order = (id: string, status: string, quantity: number, createdAt = new Date()) => ({
  id,
  status,
  items: [{ productId: product, quantity }],
  total: quantity * 100,
  currency: 'USD',
  createdAt: createdAt.toISOString(),
});
const payment = (id: string, orderId: string, kind: string, amount: number) => ({
  id,
  orderId,
  kind,
  amount,
  currency: 'USD',
  status: 'succeeded',
});
const check = () => checkInvariants({ baseUrl, adminToken: 'admin-token' });

/** Every order settled or in flight as it should be, the stock and money adding up. */
const consistentShop = () => ({
  '/api/v1/admin/orders': {
    items: [order('o-1', 'confirmed', 2), order('o-2', 'cancelled', 1), order('o-3', 'pending', 1)],
    nextCursor: null,
  },
  '/api/v1/products': { items: [{ id: product }], nextCursor: null },
  [`/api/v1/products/${product}/stock`]: {
    productId: product,
    available: 5,
    reserved: 1,
    sold: 2,
  },
  '/api/v1/admin/payments?orderId=o-1': { items: [payment('c-1', 'o-1', 'charge', 200)] },
  '/api/v1/admin/payments?orderId=o-2': {
    items: [payment('c-2', 'o-2', 'charge', 100), payment('r-2', 'o-2', 'refund', 100)],
  },
  '/api/v1/admin/payments?orderId=o-3': { items: [] },
});

/** One violation of each kind the checker finds: stock, expiry, money, a double charge. */
function brokenShop() {
  const longAgo = new Date(Date.now() - 3_600_000);
  return {
    '/api/v1/admin/orders': {
      items: [
        order('o-1', 'confirmed', 2),
        order('o-2', 'cancelled', 1),
        order('o-3', 'pending', 1, longAgo),
      ],
      nextCursor: null,
    },
    '/api/v1/products': { items: [{ id: product }], nextCursor: null },
    [`/api/v1/products/${product}/stock`]: {
      productId: product,
      available: -1,
      reserved: 3,
      sold: 1,
    },
    '/api/v1/admin/payments?orderId=o-1': {
      items: [payment('c-1', 'o-1', 'charge', 200), payment('c-1b', 'o-1', 'charge', 200)],
    },
    '/api/v1/admin/payments?orderId=o-2': { items: [payment('c-2', 'o-2', 'charge', 100)] },
    '/api/v1/admin/payments?orderId=o-3': { items: [] },
  };
}

describe('checkInvariants', () => {
  it('finds nothing wrong in a consistent shop', async () => {
    answers = consistentShop();
    expect(await check()).toEqual([]);
  });

  it('names the invariant and the ids of every violation', async () => {
    answers = brokenShop();
    const violations = await check();
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          invariant: 1,
          ids: [product],
          message: expect.stringMatching(/negative/),
        }),
        expect.objectContaining({ invariant: 1, message: 'sold 1 but confirmed orders hold 2' }),
        expect.objectContaining({
          invariant: 1,
          message: 'reserved 3 but pending orders hold only 1',
        }),
        expect.objectContaining({ invariant: 2, ids: ['o-3'] }),
        expect.objectContaining({ invariant: 5, ids: ['o-1', 'c-1', 'c-1b'] }),
        expect.objectContaining({ invariant: 3, ids: ['o-2', 'c-2'] }),
      ]),
    );
    expect(violations).toHaveLength(6);
  });
});
