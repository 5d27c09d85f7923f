import type DataLoader from 'dataloader';
import type { TimelineEntry } from './loaders.ts';
import { problemError, type Upstream } from './upstream.ts';

/** What each resolver gets: the services, called as this request's client, and its loaders. */
export type GraphQLContext = {
  upstream: Upstream;
  /** Products by id, one catalog batch read per tick of the request. */
  products: DataLoader<string, Product | null>;
  /** Orders' timelines, each order read once, a capped number per request. */
  timelines: DataLoader<string, TimelineEntry[]>;
};

export type Product = { id: string; name: string };
type Page<T> = { items: T[]; nextCursor: string | null };
type Order = { id: string; items: Array<{ productId: string }> };

// Dapr decodes a method path once before the service decodes it again, so an id is put in
// a path only when it is a plain segment (what the REST proxy lets through); anything else
// cannot name a resource, as REST answers for such a path.
const plainSegment = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/;

function segment(id: string, what: string): string {
  if (!plainSegment.test(id)) throw problemError('not_found', `no such ${what}`);
  return id;
}

function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The arguments given, without those left out or null: a REST body takes neither. */
function given<T extends Record<string, unknown>>(args: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(args).filter(([, value]) => value !== undefined && value !== null),
  ) as Partial<T>;
}

type Args = Record<string, never>;
type PageArgs = { first?: number | null; after?: string | null };

// Adding to and removing from the wishlist differ only in the method.
function wishlistChange(method: 'PUT' | 'DELETE') {
  return async (_: unknown, { productId }: { productId: string }, { upstream }: GraphQLContext) => {
    await upstream('catalog', `/api/v1/wishlist/${segment(productId, 'product')}`, { method });
    return {};
  };
}

// Setting a cart line and removing one both answer the cart as it is then.
function cartLine(productId: string) {
  return `/api/v1/cart/items/${segment(productId, 'product')}`;
}

export const resolvers = {
  ProductSort: { price_desc: '-price' },
  Query: {
    products: (
      _: unknown,
      args: PageArgs & {
        q?: string;
        category?: string;
        minPrice?: number;
        maxPrice?: number;
        inStock?: boolean;
        sort?: string;
      },
      { upstream }: GraphQLContext,
    ) =>
      upstream<Page<Product>>(
        'catalog',
        `/api/v1/products${query({
          q: args.q,
          category: args.category,
          minPrice: args.minPrice,
          maxPrice: args.maxPrice,
          inStock: args.inStock,
          sort: args.sort,
          limit: args.first,
          cursor: args.after,
        })}`,
      ),
    product: (_: unknown, { id }: { id: string }, { upstream }: GraphQLContext) =>
      upstream<Product>('catalog', `/api/v1/products/${segment(id, 'product')}`),
    categories: async (_: unknown, __: Args, { upstream }: GraphQLContext) =>
      (await upstream<{ items: unknown[] }>('catalog', '/api/v1/categories')).items,
    me: (_: unknown, __: Args, { upstream }: GraphQLContext) =>
      upstream('users', '/api/v1/users/me'),
    myOrders: (_: unknown, args: PageArgs & { status?: string }, { upstream }: GraphQLContext) =>
      upstream<Page<Order>>(
        'orders',
        `/api/v1/orders${query({ status: args.status, limit: args.first, cursor: args.after })}`,
      ),
    order: (_: unknown, { id }: { id: string }, { upstream }: GraphQLContext) =>
      upstream<Order>('orders', `/api/v1/orders/${segment(id, 'order')}`),
    // Its items are read only when asked for (see Wishlist.items).
    wishlist: () => ({}),
    notifications: (
      _: unknown,
      args: PageArgs & { unread?: boolean },
      { upstream }: GraphQLContext,
    ) =>
      upstream<Page<unknown>>(
        'notifications',
        `/api/v1/notifications${query({ unread: args.unread, limit: args.first, cursor: args.after })}`,
      ),
    users: (
      _: unknown,
      args: PageArgs & { q?: string; role?: string; status?: string },
      { upstream }: GraphQLContext,
    ) =>
      upstream<Page<unknown>>(
        'users',
        `/api/v1/admin/users${query({
          q: args.q,
          role: args.role,
          status: args.status,
          limit: args.first,
          cursor: args.after,
        })}`,
      ),
    user: (_: unknown, { id }: { id: string }, { upstream }: GraphQLContext) =>
      upstream('users', `/api/v1/admin/users/${segment(id, 'user')}`),
    cart: (_: unknown, __: Args, { upstream }: GraphQLContext) => upstream('cart', '/api/v1/cart'),
  },
  Mutation: {
    placeOrder: (
      _: unknown,
      { input, idempotencyKey }: { input: unknown; idempotencyKey: string },
      { upstream }: GraphQLContext,
    ) =>
      upstream<Order>('orders', '/api/v1/orders', {
        method: 'POST',
        body: input,
        headers: { 'idempotency-key': idempotencyKey },
      }),
    cancelOrder: (_: unknown, { id }: { id: string }, { upstream }: GraphQLContext) =>
      upstream<Order>('orders', `/api/v1/orders/${segment(id, 'order')}/cancel`, {
        method: 'POST',
      }),
    addToWishlist: wishlistChange('PUT'),
    removeFromWishlist: wishlistChange('DELETE'),
    markNotificationRead: async (
      _: unknown,
      { id }: { id: string },
      { upstream }: GraphQLContext,
    ) => {
      await upstream('notifications', `/api/v1/notifications/${segment(id, 'notification')}/read`, {
        method: 'POST',
      });
      return true;
    },
    createUser: (
      _: unknown,
      args: { email: string; password: string; name: string },
      { upstream }: GraphQLContext,
    ) => upstream('users', '/api/v1/auth/register', { method: 'POST', body: args }),
    updateMe: (_: unknown, { name }: { name: string }, { upstream }: GraphQLContext) =>
      upstream('users', '/api/v1/users/me', { method: 'PATCH', body: { name } }),
    changePassword: (
      _: unknown,
      args: { currentPassword: string; newPassword: string },
      { upstream }: GraphQLContext,
    ) => upstream('users', '/api/v1/users/me/password', { method: 'POST', body: args }),
    updateUser: (
      _: unknown,
      { id, ...changes }: { id: string; role?: string | null; status?: string | null },
      { upstream }: GraphQLContext,
    ) =>
      upstream('users', `/api/v1/admin/users/${segment(id, 'user')}`, {
        method: 'PATCH',
        body: given(changes),
      }),
    createProduct: (
      _: unknown,
      { input }: { input: Record<string, unknown> },
      { upstream }: GraphQLContext,
    ) => upstream<Product>('catalog', '/api/v1/products', { method: 'POST', body: given(input) }),
    updateProduct: (
      _: unknown,
      { id, input }: { id: string; input: Record<string, unknown> },
      { upstream }: GraphQLContext,
    ) =>
      upstream<Product>('catalog', `/api/v1/products/${segment(id, 'product')}`, {
        method: 'PATCH',
        body: given(input),
      }),
    deleteProduct: async (_: unknown, { id }: { id: string }, { upstream }: GraphQLContext) => {
      await upstream('catalog', `/api/v1/products/${segment(id, 'product')}`, {
        method: 'DELETE',
      });
      return true;
    },
    setCartItem: (
      _: unknown,
      { productId, quantity }: { productId: string; quantity: number },
      { upstream }: GraphQLContext,
    ) => upstream('cart', cartLine(productId), { method: 'PUT', body: { quantity } }),
    removeCartItem: (
      _: unknown,
      { productId }: { productId: string },
      { upstream }: GraphQLContext,
    ) => upstream('cart', cartLine(productId), { method: 'DELETE' }),
    checkoutCart: (
      _: unknown,
      { paymentMethod, idempotencyKey }: { paymentMethod: string; idempotencyKey: string },
      { upstream }: GraphQLContext,
    ) =>
      upstream<Order>('cart', '/api/v1/cart/checkout', {
        method: 'POST',
        body: { paymentMethod },
        headers: { 'idempotency-key': idempotencyKey },
      }),
  },
  Order: {
    // A plain segment, so it can go into the timeline's path as it is.
    timeline: (order: Order, _: Args, { timelines }: GraphQLContext) =>
      timelines.load(segment(order.id, 'order')),
  },
  OrderItem: {
    product: (item: { productId: string }, _: Args, { products }: GraphQLContext) =>
      products.load(item.productId),
  },
  Wishlist: {
    items: async (_: unknown, __: Args, { upstream }: GraphQLContext) =>
      (await upstream<Page<Product>>('catalog', '/api/v1/wishlist')).items,
  },
};
