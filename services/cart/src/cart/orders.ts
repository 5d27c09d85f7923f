import { AppError, type Logger, type Sidecar } from '@shop/platform';
import type { CartLine } from './document.ts';

/** Orders' answer as it came, to be handed on unchanged. */
export type OrdersAnswer = {
  status: number;
  body: string;
  /** The answer's headers a client acts on: content-type, location, idempotent-replayed, retry-after. */
  headers: Record<string, string>;
};

export type PlaceOrder = {
  /** The caller's own `Authorization` header: orders checks the token and owns the order. */
  authorization: string;
  idempotencyKey: string;
  items: CartLine[];
  paymentMethod: string;
};

/** What the cart needs from orders: placing an order as the user, with their key. */
export type OrdersClient = { place(order: PlaceOrder): Promise<OrdersAnswer> };

const passedHeaders = ['content-type', 'location', 'idempotent-replayed', 'retry-after'];

const unavailable = () =>
  new AppError(
    'upstream_unavailable',
    'orders could not be reached; retry with the same Idempotency-Key',
    { headers: { 'retry-after': '1' } },
  );

/** Orders' own answers (its problems included) pass; Dapr's or a crash's 5xx is a 503 here. */
const isOrdersOwnAnswer = (res: Response) =>
  res.status < 500 ||
  (res.headers.get('content-type') ?? '').startsWith('application/problem+json');

/** Orders' POST /api/v1/orders over Dapr invocation. */
export function ordersViaDapr(
  sidecar: Pick<Sidecar, 'invoke'>,
  logger: Logger,
  appId = 'orders',
): OrdersClient {
  return {
    async place(order) {
      let res: Response;
      let body: string;
      try {
        res = await sidecar.invoke(appId, '/api/v1/orders', {
          method: 'POST',
          headers: {
            authorization: order.authorization,
            'idempotency-key': order.idempotencyKey,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ items: order.items, paymentMethod: order.paymentMethod }),
        });
        body = await res.text();
      } catch (error) {
        logger.warn('orders unreachable', { error });
        throw unavailable();
      }
      if (!isOrdersOwnAnswer(res)) {
        logger.warn('orders failed to place an order', { status: res.status });
        throw unavailable();
      }
      const headers: Record<string, string> = {};
      for (const name of passedHeaders) {
        const value = res.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      return { status: res.status, body, headers };
    },
  };
}
