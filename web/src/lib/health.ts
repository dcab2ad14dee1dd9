// Reading caddy-cpam's /status: one overall health for the header dot, and
// the list of alerts the dashboard shows.
import type { CollectorStatus, Status } from '../api/types';

export type Health = 'ok' | 'warn' | 'danger' | 'unknown';

export type AlertKind = 'warning' | 'disconnected' | 'stats-disabled' | 'dead-letters';

export interface StatusAlert {
  upstream: string;
  kind: AlertKind;
  tone: 'danger' | 'warn' | 'info';
  /** The server's message for kind "warning", the collector's last error for "disconnected". */
  message: string;
  /** Dead letters: how many. */
  count?: number;
}

/** Whether a collector is failing: stopped, not connected, or unable to store. */
export function collectorFailing(c: CollectorStatus): boolean {
  return c.stopped || !c.connected || Boolean(c.ingestError);
}

/** The health of one collector. */
export function collectorHealth(c: CollectorStatus): Health {
  if (collectorFailing(c)) return 'danger';
  if ((c.warnings?.length ?? 0) > 0 || c.lossWarning || c.restartWarning || c.usageStatisticsEnabled === false || c.deadLetters > 0)
    return 'warn';
  return 'ok';
}

/** The overall health: the worst collector, warn without any collector, unknown without an answer. */
export function overallHealth(status: Status | undefined): Health {
  if (!status) return 'unknown';
  if (status.collectors.length === 0) return 'warn';
  let worst: Health = 'ok';
  for (const c of status.collectors) {
    const h = collectorHealth(c);
    if (h === 'danger') return 'danger';
    if (h === 'warn') worst = 'warn';
  }
  if (status.warnings.length > 0 && worst === 'ok') worst = 'warn';
  return worst;
}

/**
 * Alerts from a status answer: every warning the server lifted to the top
 * (collection stopped and storage failures count as danger), disconnected
 * collectors, statistics switched off in CPA (unless a warning already says
 * so) and dead letters.
 */
export function statusAlerts(status: Status): StatusAlert[] {
  const alerts: StatusAlert[] = [];
  const byUpstream = new Map(status.collectors.map((c) => [c.upstream, c]));
  for (const w of status.warnings) {
    const c = byUpstream.get(w.upstream);
    const severe = /^collection stopped|^storing events fails/.test(w.message) || c?.stopped === true;
    alerts.push({ upstream: w.upstream, kind: 'warning', tone: severe ? 'danger' : 'warn', message: w.message });
  }
  for (const c of status.collectors) {
    if (!c.connected && !c.stopped) {
      alerts.push({ upstream: c.upstream, kind: 'disconnected', tone: 'danger', message: c.lastError ?? '' });
    }
    if (c.usageStatisticsEnabled === false) {
      const said = status.warnings.some((w) => w.upstream === c.upstream && w.message.includes('usage-statistics-enabled'));
      if (!said) alerts.push({ upstream: c.upstream, kind: 'stats-disabled', tone: 'warn', message: '' });
    }
    if (c.deadLetters > 0) {
      alerts.push({ upstream: c.upstream, kind: 'dead-letters', tone: 'info', message: '', count: c.deadLetters });
    }
  }
  const rank = { danger: 0, warn: 1, info: 2 } as const;
  return alerts.sort((a, b) => rank[a.tone] - rank[b.tone]);
}

/**
 * Compares CPA versions like "v7.2.140" and "7.2.97": negative when a is
 * older, 0 when equal or not comparable (e.g. "dev").
 */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
  };
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return 0;
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
