// Formatting the page needs beyond src/lib/format: clock times with seconds
// for event rows, and the display names of an event's account and API key.
import { useMemo } from 'react';
import { useFormat } from '../../app/format';
import { DASH } from '../../lib/format';
import type { ValueLabel } from './api';
import type { UsageEvent } from './types';

export interface Clock {
  /** "14:05:09" in the browser's zone. */
  time: (v: string) => string;
  /** "Nov 27, 14:05:09" in the browser's zone. */
  dayTime: (v: string) => string;
}

export function useClock(): Clock {
  const f = useFormat();
  return useMemo(() => {
    const time = new Intl.DateTimeFormat(f.locale, {
      timeZone: f.timeZone,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    const dayTime = new Intl.DateTimeFormat(f.locale, {
      timeZone: f.timeZone,
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    const safe = (fmt: Intl.DateTimeFormat) => (v: string) => {
      const ms = Date.parse(v);
      return Number.isNaN(ms) ? DASH : fmt.format(ms);
    };
    return { time: safe(time), dayTime: safe(dayTime) };
  }, [f.locale, f.timeZone]);
}

/** The credential's name at ingest (emails masked by the server), else its auth_index. */
export function accountName(e: Pick<UsageEvent, 'account' | 'authIndex'>): string {
  const a = e.account;
  return [a?.label, a?.email, a?.fileName, e.authIndex].find((v) => v !== undefined && v !== '') ?? DASH;
}

/** The client key's alias when it has one, else its mask. */
export function apiKeyName(e: Pick<UsageEvent, 'apiKey'>, labels?: Map<string, ValueLabel>): string {
  if (!e.apiKey) return DASH;
  return labels?.get(e.apiKey.hash)?.label ?? e.apiKey.mask;
}
