// What a soak needs in the shop before the load: the admin's token, products with stock, and
// shoppers with tokens. Everything goes through the gateway, as a client's would.
import { pollUntil } from '@shop/devkit/process';
import type { Catalog, Shopper } from './mix.ts';

export type Gateway = {
  url: string;
  send(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
};

export function gatewayAt(url: string): Gateway {
  return {
    url,
    async send(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      // A pooled connection the server closed while idle fails before any answer: once more.
      for (let attempt = 1; ; attempt++) {
        try {
          return await fetch(`${url}${path}`, {
            method,
            headers,
            ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
            signal: AbortSignal.timeout(20_000),
          });
        } catch (error) {
          if (attempt >= 3) throw error;
        }
      }
    },
  };
}

async function expectStatus(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

export async function login(gateway: Gateway, email: string, password: string): Promise<string> {
  const res = await expectStatus(
    await gateway.send('POST', '/api/v1/auth/login', { body: { email, password } }),
    200,
    `login of ${email}`,
  );
  return ((await res.json()) as { accessToken: string }).accessToken;
}

const words = ['lamp', 'chair', 'mug', 'desk', 'blue', 'steel', 'oak', 'soft', 'travel', 'green'];

/**
 * `count` products with stock enough for the whole run, and three scarce ones (`scarceStock`
 * each) that run out, so out-of-stock cancellations happen under load as well.
 */
export async function stockCatalog(
  gateway: Gateway,
  adminToken: string,
  options: { count: number; stock: number; scarceStock: number; runId: string },
): Promise<Catalog> {
  const create = async (i: number, stock: number) => {
    const name = `${words[i % words.length]} ${words[(i * 7 + 3) % words.length]} ${i}`;
    const res = await gateway.send('POST', '/api/v1/products', {
      token: adminToken,
      body: {
        sku: `SOAK-${options.runId}-${i}`,
        name,
        category: 'soak',
        price: 500 + i * 25,
        currency: 'USD',
        stock,
      },
    });
    await expectStatus(res, 201, `product ${i}`);
    const id = ((await res.json()) as { id: string }).id;
    await pollUntil(
      async () => {
        const stockRes = await gateway.send('GET', `/api/v1/products/${id}/stock`, {
          token: adminToken,
        });
        return stockRes.ok && ((await stockRes.json()) as { available: number }).available === stock
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, what: `inventory to open the stock of product ${i}` },
    );
    return id;
  };
  const productIds: string[] = [];
  for (let i = 0; i < options.count; i++) productIds.push(await create(i, options.stock));
  const scarceIds: string[] = [];
  for (let i = 0; i < 3; i++) scarceIds.push(await create(options.count + i, options.scarceStock));
  return { productIds, scarceIds };
}

/** Registers `count` shoppers and signs each in. */
export async function registerShoppers(
  gateway: Gateway,
  options: { count: number; runId: string },
): Promise<Shopper[]> {
  const shoppers: Shopper[] = [];
  for (let i = 0; i < options.count; i++) {
    const account = {
      email: `soak-${options.runId}-${i}@example.com`,
      password: `soak shopper password ${i}`,
      name: `Soak shopper ${i}`,
    };
    const res = await expectStatus(
      await gateway.send('POST', '/api/v1/auth/register', { body: account }),
      201,
      `registering ${account.email}`,
    );
    const { id } = (await res.json()) as { id: string };
    shoppers.push({ id, token: await login(gateway, account.email, account.password) });
  }
  return shoppers;
}
