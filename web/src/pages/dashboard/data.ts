// The dashboard's usage queries: today so far against yesterday by the same
// time, the last 24 hours per hour, and today's top models.
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from '../../api/auth';
import { REFRESH_MS, useBreakdown, useTimeSeries } from '../../api/queries';
import type { BreakdownResponse, Summary, SummaryResponse, TimeSeriesResponse } from '../../api/types';
import { presetRange, rangeParams, sameTimeYesterday } from '../../lib/time';

export interface TodayVsYesterday {
  today: Summary;
  yesterday: Summary;
  from: string;
  to: string;
  yesterdayTo: string;
}

/**
 * Today (local midnight → now) and yesterday (local midnight → the same wall
 * time), both in the browser's zone. Two summary calls: the summary's own
 * "previous" period is the equally long stretch right before midnight, which
 * is not "yesterday by this time".
 */
export function useTodayVsYesterday(timeZone: string): UseQueryResult<TodayVsYesterday> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'summary', 'today-vs-yesterday', timeZone],
    queryFn: async ({ signal }) => {
      const now = Date.now();
      const [today, yesterday] = await Promise.all([
        api.usage<SummaryResponse>('/api/v1/summary', { query: rangeParams(presetRange('today', now, timeZone), timeZone), signal }),
        api.usage<SummaryResponse>('/api/v1/summary', { query: rangeParams(sameTimeYesterday(now, timeZone), timeZone), signal }),
      ]);
      return { today: today.current, yesterday: yesterday.current, from: today.from, to: today.to, yesterdayTo: yesterday.to };
    },
    refetchInterval: REFRESH_MS,
  });
}

/** The last 24 hours in hourly buckets (the server aligns them to the zone's hours). */
export function useLast24Hours(timeZone: string): UseQueryResult<TimeSeriesResponse> {
  return useTimeSeries(['24h', timeZone], '1h', () => {
    const now = Date.now();
    // From 23 h ago: rounded down to the hour this gives 24 buckets, the last
    // one being the current hour.
    return rangeParams({ from: now - 23 * 3_600_000, to: now }, timeZone);
  });
}

export function useTopModelsToday(timeZone: string): UseQueryResult<BreakdownResponse> {
  return useBreakdown(['today', timeZone], 'model', { top: 5 }, () => rangeParams(presetRange('today', Date.now(), timeZone), timeZone));
}
