import type { Sidecar } from '@shop/platform';
import { z } from 'zod';

/** One page of the users with a product on their wishlist, and where the next one starts. */
export type AudiencePage = { userIds: string[]; nextCursor: string | null };

/**
 * The users to tell about a product, read a page at a time so that a product on any
 * number of wishlists never has its whole audience in memory.
 */
export type WishlistAudience = {
  page(productId: string, cursor: string | null): Promise<AudiencePage>;
};

const wishlistersPage = z.object({
  items: z.array(z.object({ userId: z.string().min(1) })),
  nextCursor: z.string().nullable(),
});

/** Pages of 100: a hundred inserts per call keeps a call's cost small beside its work. */
const pageSize = 100;

/**
 * The catalog's wishlisters, through Dapr service invocation. Throws on any answer but
 * 200, so the event handler asks for redelivery and starts over (already notified users
 * are skipped by sourceKey).
 */
export function wishlistAudienceViaDapr(sidecar: Pick<Sidecar, 'invoke'>): WishlistAudience {
  return {
    async page(productId, cursor) {
      const query = new URLSearchParams({ limit: String(pageSize) });
      if (cursor) query.set('cursor', cursor);
      const res = await sidecar.invoke(
        'catalog',
        `/internal/products/${encodeURIComponent(productId)}/wishlisters?${query}`,
        { method: 'GET', signal: AbortSignal.timeout(10_000) },
      );
      if (!res.ok) {
        throw new Error(`catalog answered ${res.status} for the wishlisters of ${productId}`);
      }
      const page = wishlistersPage.parse(await res.json());
      return { userIds: page.items.map((item) => item.userId), nextCursor: page.nextCursor };
    },
  };
}
