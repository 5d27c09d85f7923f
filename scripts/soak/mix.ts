// The soak's traffic: which operations a shopper performs and how often, each turned into one
// vegeta target. Every random choice comes from one seeded generator, so a run repeats.
import { randomUUID } from 'node:crypto';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** What share of the requests each operation is, when --mix does not say otherwise. */
export const defaultMix: Record<string, number> = {
  browse: 0.24,
  search: 0.12,
  product: 0.2,
  wishlist: 0.08,
  cart: 0.12,
  checkout: 0.08,
  'cart-checkout': 0.04,
  cancel: 0.04,
  notifications: 0.08,
};

export type Operation = keyof typeof defaultMix;

/**
 * Answers that are the shop's right reply to a shopper rather than a failure: cancelling an
 * order already cancelled, checking out an empty cart, repeating a key still in flight.
 */
export const expectedRefusals: Record<string, number[]> = {
  cancel: [409],
  'cart-checkout': [409],
  checkout: [409],
};

/** One request as vegeta reads it (its JSON target format). */
export type VegetaTarget = {
  method: string;
  url: string;
  body?: string;
  header: Record<string, string[]>;
};

export type Shopper = { id: string; token: string };

/** A checkout the soak sent: kept until the shop acknowledges it, and sent again until then. */
export type Checkout = {
  key: string;
  shopper: number;
  path: string;
  body: string;
};

/** The fragment names the operation and the shopper; HTTP never sends it, vegeta reports it. */
export function tagOf(url: string): { op: string; shopper: number; key?: string } {
  const tag = new URLSearchParams(url.slice(url.indexOf('#') + 1));
  const key = tag.get('key') ?? undefined;
  return {
    op: tag.get('op') ?? 'unknown',
    shopper: Number(tag.get('shopper')),
    ...(key && { key }),
  };
}

const searchWords = ['lamp', 'chair', 'mug', 'desk', 'blue', 'steel', 'oak', 'soft', 'travel'];

export type Catalog = { productIds: string[]; scarceIds: string[] };

/**
 * Draws the next request: an operation by its share of the mix, a shopper, products. Orders
 * the shop acknowledged (`acknowledged`) feed cancels; checkouts it refused or never
 * answered (`retries`) go out again under their own key before anything new.
 */
export class TrafficMix {
  readonly #rng: ReturnType<typeof xoroshiro128plus>;
  readonly #ops: Array<[string, number]>;
  readonly #retries: Array<{ checkout: Checkout; notBefore: number }> = [];
  readonly #recentOrders: Array<{ id: string; shopper: number }> = [];
  /** Shoppers whose last cart change succeeded: their cart-checkouts have lines to order. */
  readonly #filledCarts = new Set<number>();
  /** The gateways (one per replica), taken in turn as a Service spreads its clients. */
  readonly #gatewayUrls: string[];
  #sent = 0;
  readonly shoppers: Shopper[];
  readonly catalog: Catalog;

  constructor(
    gatewayUrls: string[],
    shoppers: Shopper[],
    catalog: Catalog,
    options: { seed: number; mix: Record<string, number> },
  ) {
    this.#gatewayUrls = gatewayUrls;
    this.shoppers = shoppers;
    this.catalog = catalog;
    this.#rng = xoroshiro128plus(options.seed);
    // Each operation with the running total of the shares up to it: a draw in [0, 1) falls in one.
    let upTo = 0;
    this.#ops = Object.entries(options.mix).map(([op, share]) => {
      upTo += share;
      return [op, upTo];
    });
  }

  /** A checkout to send again under its key, a second from now, as a patient client would. */
  retry(checkout: Checkout, now = Date.now()): void {
    this.#retries.push({ checkout, notBefore: now + 1_000 });
  }

  acknowledged(order: { id: string; shopper: number }): void {
    this.#recentOrders.push(order);
    if (this.#recentOrders.length > 200) this.#recentOrders.shift();
  }

  cartChanged(shopper: number, filled: boolean): void {
    if (filled) this.#filledCarts.add(shopper);
    else this.#filledCarts.delete(shopper);
  }

  next(now = Date.now()): { target: VegetaTarget; checkout?: Checkout } {
    const due = this.#retries[0];
    if (due && due.notBefore <= now) {
      this.#retries.shift();
      return { target: this.#checkoutTarget(due.checkout), checkout: due.checkout };
    }
    const op = this.#pickOperation();
    const shopper = this.#int(0, this.shoppers.length - 1);
    switch (op) {
      case 'checkout':
      case 'cart-checkout':
        return this.#newCheckout(op, shopper);
      case 'cancel':
        return { target: this.#cancel() ?? this.#read('browse', shopper) };
      default:
        return { target: this.#read(op, shopper) };
    }
  }

  #pickOperation(): string {
    const draw = this.#int(0, 999_999) / 1_000_000;
    return (
      (this.#ops.find(([, upTo]) => draw < upTo) ?? this.#ops[this.#ops.length - 1])?.[0] ??
      'browse'
    );
  }

  #int(from: number, to: number): number {
    return uniformInt(this.#rng, from, to);
  }

  #pick<T>(items: T[]): T {
    return items[this.#int(0, items.length - 1)] as T;
  }

  #target(
    op: string,
    shopper: number,
    method: string,
    path: string,
    extra: Partial<VegetaTarget> = {},
  ) {
    const header: Record<string, string[]> = { ...extra.header };
    if (op !== 'browse' && op !== 'search' && op !== 'product')
      header.Authorization = [`Bearer ${this.shoppers[shopper]?.token}`];
    const key = extra.header?.['Idempotency-Key']?.[0];
    const tag = new URLSearchParams({ op, shopper: String(shopper), ...(key && { key }) });
    const base = this.#gatewayUrls[this.#sent++ % this.#gatewayUrls.length];
    return {
      method,
      url: `${base}${path}#${tag}`,
      header,
      ...(extra.body && { body: extra.body }),
    };
  }

  #json(value: unknown): Partial<VegetaTarget> {
    return {
      body: Buffer.from(JSON.stringify(value)).toString('base64'),
      header: { 'Content-Type': ['application/json'] },
    };
  }

  #read(op: string, shopper: number): VegetaTarget {
    const product = this.#pick(this.catalog.productIds);
    switch (op) {
      case 'search':
        return this.#target(
          op,
          shopper,
          'GET',
          `/api/v1/products?q=${this.#pick(searchWords)}&limit=20`,
        );
      case 'product':
        return this.#target(op, shopper, 'GET', `/api/v1/products/${product}`);
      case 'wishlist':
        return this.#int(0, 1) === 0
          ? this.#target(op, shopper, 'PUT', `/api/v1/wishlist/${product}`)
          : this.#target(op, shopper, 'GET', '/api/v1/wishlist');
      case 'cart':
        return this.#int(0, 2) === 0
          ? this.#target(op, shopper, 'GET', '/api/v1/cart')
          : this.#target(
              op,
              shopper,
              'PUT',
              `/api/v1/cart/items/${this.#orderable()}`,
              this.#json({ quantity: this.#int(1, 2) }),
            );
      case 'notifications':
        return this.#target(op, shopper, 'GET', '/api/v1/notifications?limit=10');
      default:
        return this.#target(
          'browse',
          shopper,
          'GET',
          `/api/v1/products?limit=20&sort=${encodeURIComponent(this.#pick(['newest', 'price', '-price']))}`,
        );
    }
  }

  /** Mostly well-stocked products; one line in twenty a scarce one, so some orders run out. */
  #orderable(): string {
    const scarce = this.catalog.scarceIds.length > 0 && this.#int(0, 19) === 0;
    return this.#pick(scarce ? this.catalog.scarceIds : this.catalog.productIds);
  }

  #newCheckout(op: 'checkout' | 'cart-checkout', shopper: number) {
    // One in ten is declined by the payment processor, so compensation runs under load too.
    const paymentMethod = this.#int(0, 9) === 0 ? 'pm_card_chargeDeclined' : 'pm_card_visa';
    if (op === 'cart-checkout' && !this.#filledCarts.has(shopper))
      return { target: this.#read('cart', shopper) };
    if (op === 'cart-checkout') this.#filledCarts.delete(shopper);
    const items = Array.from({ length: this.#int(1, 2) }, () => ({
      productId: this.#orderable(),
      quantity: 1,
    }));
    const unique = [...new Map(items.map((line) => [line.productId, line])).values()];
    const checkout: Checkout = {
      key: randomUUID(),
      shopper,
      path: op === 'checkout' ? '/api/v1/orders' : '/api/v1/cart/checkout',
      body: JSON.stringify(
        op === 'checkout' ? { items: unique, paymentMethod } : { paymentMethod },
      ),
    };
    return { target: this.#checkoutTarget(checkout), checkout };
  }

  #checkoutTarget(checkout: Checkout): VegetaTarget {
    const op = checkout.path === '/api/v1/orders' ? 'checkout' : 'cart-checkout';
    return this.#target(op, checkout.shopper, 'POST', checkout.path, {
      body: Buffer.from(checkout.body).toString('base64'),
      header: { 'Content-Type': ['application/json'], 'Idempotency-Key': [checkout.key] },
    });
  }

  #cancel(): VegetaTarget | undefined {
    if (this.#recentOrders.length === 0) return undefined;
    const order = this.#pick(this.#recentOrders);
    return this.#target('cancel', order.shopper, 'POST', `/api/v1/orders/${order.id}/cancel`);
  }
}
