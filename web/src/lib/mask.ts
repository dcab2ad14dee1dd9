// The one way the panel shows a secret it must not show whole.

/**
 * The mask caddy-cpam (and CPA's logs) show for a secret: the first 4 and
 * last 4 characters around "…" when it is longer than 8 characters
 * ("sk-cpa-test-1" → "sk-c…st-1"), "****" otherwise, "" for an empty one.
 * Counts characters, not UTF-16 units, so no emoji is cut in half.
 */
export function maskKey(key: string): string {
  if (key === '') return '';
  const chars = Array.from(key);
  if (chars.length <= 8) return '****';
  return chars.slice(0, 4).join('') + '…' + chars.slice(-4).join('');
}
