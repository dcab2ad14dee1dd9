// Formatting bound to the UI language and the browser's time zone.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import {
  formatBytes,
  formatChange,
  formatDateTime,
  formatDuration,
  formatNumber,
  formatPercent,
  formatPointChange,
  formatRelative,
  formatTime,
  formatTokens,
  formatUsd,
} from '../lib/format';
import { browserTimeZone } from '../lib/time';

type DateInput = Date | string | number | null | undefined;

export interface Formatters {
  locale: string;
  timeZone: string;
  number: (n: number | null | undefined, maxFractionDigits?: number) => string;
  tokens: (n: number | null | undefined) => string;
  usd: (n: number | null | undefined) => string;
  percent: (ratio: number | null | undefined, fractionDigits?: number) => string;
  change: (change: number | null) => string;
  pointChange: (current: number | null | undefined, previous: number | null | undefined) => string;
  duration: (ms: number | null | undefined) => string;
  bytes: (n: number | null | undefined) => string;
  dateTime: (v: DateInput) => string;
  time: (v: DateInput) => string;
  relative: (v: DateInput) => string;
}

const timeZone = browserTimeZone();

export function useFormat(): Formatters {
  const { i18n } = useTranslation();
  const locale = i18n.language;
  return useMemo(
    () => ({
      locale,
      timeZone,
      number: (n, d) => formatNumber(n, locale, d),
      tokens: (n) => formatTokens(n, locale),
      usd: (n) => formatUsd(n, locale),
      percent: (r, d) => formatPercent(r, locale, d),
      change: (c) => formatChange(c, locale),
      pointChange: (c, p) => formatPointChange(c, p, locale),
      duration: (ms) => formatDuration(ms, locale),
      bytes: (n) => formatBytes(n, locale),
      dateTime: (v) => formatDateTime(v, locale, timeZone),
      time: (v) => formatTime(v, locale, timeZone),
      relative: (v) => formatRelative(v, new Date(), locale),
    }),
    [locale],
  );
}
