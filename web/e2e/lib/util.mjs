// Small helpers shared by the browser tests: waiting, polling, numbers and
// dates in a time zone.

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls fn until it returns something other than undefined, or throws the
 * last error (or a timeout error naming what was awaited).
 * @template T
 * @param {() => Promise<T | undefined> | T | undefined} fn
 * @param {{ timeout?: number, interval?: number, what?: string }} [options]
 * @returns {Promise<T>}
 */
export async function until(fn, { timeout = 5000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  /** @type {unknown} */
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      // An error marked fatal (e.g. a process that died) ends the wait at once.
      if (e instanceof Error && 'fatal' in e && e.fatal) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) break;
    await sleep(interval);
  }
  const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${detail}`, { cause: lastError });
}

/**
 * The number in a count as the panel shows it ("12,345", "12 345", "1,234
 * 次"): every character but digits and a leading minus is dropped. NaN when
 * there is no digit.
 * @param {string | null | undefined} text
 */
export function parseCount(text) {
  if (text == null) return NaN;
  const digits = text.replace(/[^\d-]/g, '');
  return /\d/.test(digits) ? Number(digits) : NaN;
}

/**
 * A count formatted like the panel's f.number in the given UI language:
 * Intl.NumberFormat without fraction digits.
 * @param {number} n
 * @param {string} [locale]
 */
export function formatCount(n, locale = 'en') {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/**
 * Today's date (YYYY-MM-DD) in timeZone. The analytics API reads a bare date
 * as local midnight in its `tz` parameter.
 * @param {string} timeZone
 * @param {number} [now]
 */
export function localDate(timeZone, now = Date.now()) {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(now));
}

/** @param {string} s */
export function slug(s) {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'step'
  );
}
