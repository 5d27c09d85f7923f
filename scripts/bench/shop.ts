// The shop every bench runs against, and the calls the benches make to it.
import { startTestShop, type TestShop } from '@shop/devkit/testing';

/** The admin each bench shop is started with. */
export const benchAdmin = { email: 'bench-admin@example.com', password: 'bench admin password' };

/** A shop with quiet sidecars and the bench admin, plus whatever else `options` asks for. */
export function startBenchShop(
  options: Omit<NonNullable<Parameters<typeof startTestShop>[0]>, 'appEnv'> = {},
): Promise<TestShop> {
  return startTestShop({
    daprLogLevel: 'error',
    ...options,
    appEnv: { users: { ADMIN_EMAIL: benchAdmin.email, ADMIN_PASSWORD: benchAdmin.password } },
  });
}

/** A comma-separated list of numbers, as the BENCH_*_RATES settings hold. */
export function numberList(value: string): number[] {
  return value.split(',').map(Number);
}

/**
 * shop.send, tried again (up to 3 times) when the connection fails before any answer: a
 * pooled keep-alive connection the server closed while idle fails the next request with
 * "other side closed", though the request never reached the server.
 */
export async function send(
  shop: TestShop,
  ...args: Parameters<TestShop['send']>
): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await shop.send(...args);
    } catch (error) {
      if (!(error instanceof TypeError) || attempt >= 3) throw error;
    }
  }
}

/** `count` products of `stock` units each, created by the admin; `label(i)` names the i-th. */
export async function createProducts(
  shop: TestShop,
  adminToken: string,
  options: { count: number; stock: number; label: (i: number) => { sku: string; name: string } },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const res = await send(shop, 'POST', '/api/v1/products', {
      token: adminToken,
      body: {
        ...options.label(i),
        category: 'bench',
        price: 1_000,
        currency: 'USD',
        stock: options.stock,
      },
    });
    if (res.status !== 201) throw new Error(`product create answered ${res.status}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}
