import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import { type Db, type Product, productColumns, toProduct } from './repository.ts';
import type { ProductSort } from './schemas.ts';

export type ProductSearch = {
  q?: string | undefined;
  category?: string | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  inStock?: boolean | undefined;
  sort: ProductSort;
  limit: number;
  /** Where the previous page ended, in this sort's order. */
  after?: SearchPosition | undefined;
};

/** A row's place in a sort: its sort key (rank and name similarity for relevance) and id. */
export type SearchPosition = { keys: number[] | string[]; id: string };

export type RankedProduct = Product & { textRank: number; nameSimilarity: number };

// A query that ends in a bare word (no quote, no leading minus) is still being typed:
// that word may be a prefix ("runn" for running).
const trailingBareWord = /(?:^|\s)([\p{L}\p{N}]+)$/u;

/**
 * The tsquery for `q`: websearch_to_tsquery semantics (quoted phrases, `-negation`, `or`)
 * with English stemming, and the last bare word also matched as a prefix of an unstemmed
 * word. User input only ever reaches SQL as bound parameters; the prefix term is built from
 * letters and digits alone, so it carries no tsquery operator of its own.
 */
export function textQuery(q: string): RawBuilder<unknown> {
  const lastWord = trailingBareWord.exec(q)?.[1];
  const head = lastWord === undefined ? q : q.slice(0, q.length - lastWord.length);
  // An odd number of quotes before it means the word sits inside an unfinished phrase.
  if (lastWord === undefined || (head.match(/"/g)?.length ?? 0) % 2 === 1) {
    return sql`websearch_to_tsquery('english', ${q})`;
  }
  // && with an empty query (no head, or only stop words) yields the other operand.
  return sql`(websearch_to_tsquery('english', ${head}) &&
    (websearch_to_tsquery('english', ${lastWord}) || to_tsquery('simple', ${`${lastWord}:*`})))`;
}

/** Plain words only: a query with a phrase or a negation means exactly what it says. */
function allowsTypos(q: string): boolean {
  return !/["]|(?:^|\s)-/.test(q);
}

/** How each sort orders rows: its columns (then id, for a total order) and direction. */
const sortKeys: Record<ProductSort, { columns: string[]; direction: 'asc' | 'desc' }> = {
  relevance: { columns: ['text_rank', 'name_similarity'], direction: 'desc' },
  newest: { columns: ['created_at'], direction: 'desc' },
  price: { columns: ['price'], direction: 'asc' },
  '-price': { columns: ['price'], direction: 'desc' },
};

/**
 * Live products that pass the filters and match `query` (or, `typoTolerant`, are named
 * much like `q`), with their rank and name similarity for sorting.
 */
function matchingProducts(
  db: Db,
  search: ProductSearch,
  query: RawBuilder<unknown> | undefined,
  typoTolerant: boolean,
) {
  const { q } = search;
  return db
    .selectFrom('products')
    .select(productColumns)
    .select([
      (query ? sql<number>`ts_rank(search_vector, ${query})::float8` : sql<number>`0::float8`).as(
        'text_rank',
      ),
      (q === undefined
        ? sql<number>`0::float8`
        : sql<number>`word_similarity(${q}, name)::float8`
      ).as('name_similarity'),
    ])
    .where('deleted_at', 'is', null)
    .$if(query !== undefined, (qb) =>
      qb.where(
        typoTolerant
          ? // pg_trgm's `<%` holds when some run of the name's words is at least
            // pg_trgm.word_similarity_threshold (0.6 by default) similar to q.
            sql<SqlBool>`${q} <% name`
          : sql<SqlBool>`search_vector @@ ${query}`,
      ),
    )
    .$if(search.category !== undefined, (qb) => qb.where('category', '=', search.category ?? ''))
    .$if(search.minPrice !== undefined, (qb) => qb.where('price', '>=', search.minPrice ?? 0))
    .$if(search.maxPrice !== undefined, (qb) => qb.where('price', '<=', search.maxPrice ?? 0))
    .$if(search.inStock === true, (qb) => qb.where('available', '>', 0))
    .$if(search.inStock === false, (qb) => qb.where('available', '=', 0));
}

/** The page of `matches` in the sort's order, after `search.after` (keyset, never OFFSET). */
function pageOf(db: Db, matches: ReturnType<typeof matchingProducts>, search: ProductSearch) {
  const { columns, direction } = sortKeys[search.sort];
  const ordered = [...columns, 'id'];
  let page = db.selectFrom(matches.as('matches')).selectAll();
  for (const column of ordered) page = page.orderBy(sql.ref(column), direction);
  const { after } = search;
  if (after) {
    const values = [...after.keys, after.id];
    const row = (items: Array<Expression<unknown>>) => sql`(${sql.join(items)})`;
    const operator = direction === 'asc' ? sql`>` : sql`<`;
    page = page.where(
      sql<SqlBool>`${row(ordered.map((c) => sql.ref(c)))} ${operator} ${row(values.map((v) => sql.val(v)))}`,
    );
  }
  return page.limit(search.limit);
}

/**
 * One page of live products: filtered, optionally matched against `q`, in the sort's order,
 * after `after`. Keyset pagination (never OFFSET): the position is the last row's sort key
 * plus its id, so products added between pages cause no duplicate and no gap.
 */
export async function searchProducts(db: Db, search: ProductSearch): Promise<RankedProduct[]> {
  const { q } = search;
  const query = q === undefined ? undefined : textQuery(q);
  // Typo tolerance is a fallback, for plain words that match no product as typed: scoring
  // every name's similarity on every search costs six times the search itself (measured
  // over 10,000 products). Deciding by whether any product matches, not by this page, keeps
  // every page of one query in one mode.
  const typoTolerant =
    q !== undefined && query !== undefined && allowsTypos(q) && !(await anyTextMatch(db, query));
  const matches = matchingProducts(db, search, query, typoTolerant);
  const rows = await pageOf(db, matches, search).execute();
  return rows.map((row) => ({
    ...toProduct(row),
    textRank: Number(row.text_rank),
    nameSimilarity: Number(row.name_similarity),
  }));
}

async function anyTextMatch(db: Db, query: RawBuilder<unknown>): Promise<boolean> {
  const found = await db
    .selectFrom('products')
    .select('id')
    .where('deleted_at', 'is', null)
    .where(sql<SqlBool>`search_vector @@ ${query}`)
    .limit(1)
    .executeTakeFirst();
  return found !== undefined;
}

/** Where `product` sits in `sort`, for the next page's cursor. */
export function positionOf(product: RankedProduct, sort: ProductSort): SearchPosition {
  switch (sort) {
    case 'relevance':
      return { keys: [product.textRank, product.nameSimilarity], id: product.id };
    case 'newest':
      return { keys: [product.createdAt.toISOString()], id: product.id };
    case 'price':
    case '-price':
      return { keys: [product.price], id: product.id };
  }
}
