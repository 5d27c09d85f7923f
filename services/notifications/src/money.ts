/**
 * An amount in minor units, as a customer reads it: `formatMoney(1999, 'USD')` is `$19.99`.
 * The currency's own number of decimals, so 500 JPY stays ¥500.
 */
export function formatMoney(minorUnits: number, currency: string): string {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  const decimals = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minorUnits / 10 ** decimals);
}
