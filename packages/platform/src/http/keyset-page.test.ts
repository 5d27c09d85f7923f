import { describe, expect, it } from 'vitest';
import { keysetPage } from './keyset-page.ts';

const rows = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

describe('keysetPage', () => {
  it('reads one row more than the page and names the last row when more follow', async () => {
    const asked: number[] = [];
    const page = await keysetPage(
      3,
      async (limit) => {
        asked.push(limit);
        return rows(limit);
      },
      (last) => `after-${last}`,
    );
    expect(asked).toEqual([4]);
    expect(page).toEqual({ rows: [1, 2, 3], nextCursor: 'after-3' });
  });

  it('has no next cursor when the page holds the rest, or nothing', async () => {
    expect(await keysetPage(3, async () => rows(3), String)).toEqual({
      rows: [1, 2, 3],
      nextCursor: null,
    });
    expect(await keysetPage(3, async () => [], String)).toEqual({ rows: [], nextCursor: null });
  });
});
