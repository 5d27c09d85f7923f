import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

/** What the migrations create beyond core PostgreSQL, for the embedded PGlite to load. */
export const pgliteExtensions = { pg_trgm };

export const migrations = new URL('../migrations', import.meta.url);
