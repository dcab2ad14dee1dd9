// How prices read on the pricing page: USD per 1M tokens with the digits a
// price list needs ($0.075 stays $0.075, unlike the panel's cost format).

const formats = new Map<string, Intl.NumberFormat>();

export function formatPerMillion(n: number, locale: string): string {
  let f = formats.get(locale);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 });
    formats.set(locale, f);
  }
  return f.format(n);
}

/** A token threshold of a tier: 200000 → 200k, 1000000 → 1M. */
export function formatThreshold(n: number, locale: string): string {
  const nf = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  if (n >= 1e6 && n % 1e4 === 0) return nf.format(n / 1e6) + 'M';
  if (n >= 1e3 && n % 10 === 0) return nf.format(n / 1e3) + 'k';
  return nf.format(n);
}

/** The day of an instant in timeZone: "Nov 27, 2026" (the full time goes in a tooltip). */
export function formatDay(value: string, locale: string, timeZone: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric' }).format(d);
}
