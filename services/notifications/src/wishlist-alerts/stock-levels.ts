import { isDuplicateKeyError, type NotificationsDb } from '../database.ts';

/**
 * The last stock level seen per product, applied only for a newer version (stock.changed
 * may arrive out of order). `backInStockVersion` records the version whose arrival took
 * the product from 0 to more, so a redelivery of that event (by then no longer newer)
 * still knows it must notify.
 */
export type StockLevelDocument = {
  _id: string;
  available: number;
  version: number;
  backInStockVersion: number | null;
};

export type StockLevelOutcome = 'back_in_stock' | 'changed' | 'stale';

/**
 * Applies one stock.changed by compare-and-set on the version last seen (no transaction:
 * a lost race reads again and retries). The first level seen for a product is recorded
 * without a verdict: from nothing known, no one can tell it came back.
 */
export async function applyStockLevel(
  db: NotificationsDb,
  change: { productId: string; available: number; version: number },
): Promise<StockLevelOutcome> {
  const { productId, available, version } = change;
  for (;;) {
    const seen = await db.stockLevels.findOne({ _id: productId });
    if (!seen) {
      try {
        await db.stockLevels.insertOne({
          _id: productId,
          available,
          version,
          backInStockVersion: null,
        });
        return 'changed';
      } catch (error) {
        if (isDuplicateKeyError(error)) continue;
        throw error;
      }
    }
    if (seen.version >= version) {
      return seen.backInStockVersion === version ? 'back_in_stock' : 'stale';
    }
    const cameBack = seen.available === 0 && available > 0;
    const updated = await db.stockLevels.updateOne(
      { _id: productId, version: seen.version },
      {
        $set: {
          available,
          version,
          backInStockVersion: cameBack ? version : seen.backInStockVersion,
        },
      },
    );
    if (updated.matchedCount === 1) return cameBack ? 'back_in_stock' : 'changed';
  }
}
