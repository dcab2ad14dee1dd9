import type { UseQueryResult } from '@tanstack/react-query';
import { useMemo, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { BreakdownResponse, BreakdownRow } from '../../api/types';
import { useFormat } from '../../app/format';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { QueryView } from '../../components/QueryView';
import { SkeletonLines } from '../../components/Skeleton';
import { DEFAULT_BREAKDOWN_SORT, nextSort, rowLabel, sortBreakdownRows, type BreakdownSort, type BreakdownSortKey } from './analysis';
import { BREAKDOWN_TABS, type BreakdownTab } from './state';

const COLUMNS: readonly { key: BreakdownSortKey; end: boolean }[] = [
  { key: 'label', end: false },
  { key: 'attempts', end: true },
  { key: 'failureRate', end: true },
  { key: 'tokens', end: true },
  { key: 'cost', end: true },
  { key: 'latencyP95', end: true },
];

/** A click (or Enter / Space) on a table row. */
export function rowKeyHandler(action: () => void) {
  return (e: KeyboardEvent<HTMLElement>) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      action();
    }
  };
}

export function ShareBar({ share, label }: { share: number; label: string }) {
  return (
    <div className="share" role="img" aria-label={label} title={label}>
      <span style={{ width: `${(Math.min(1, Math.max(0, share)) * 100).toFixed(1)}%` }} />
    </div>
  );
}

function BreakdownTable({ data, tab, onPick }: { data: BreakdownResponse; tab: BreakdownTab; onPick: (key: string) => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const [sort, setSort] = useState<BreakdownSort>(DEFAULT_BREAKDOWN_SORT);
  const rows = useMemo(() => sortBreakdownRows(data.rows, sort), [data.rows, sort]);
  const total = data.rows.reduce((n, r) => n + r.attempts, 0);

  if (data.rows.length === 0) {
    return (
      <div className="card-pad">
        <EmptyState title={t('monitoringPage.breakdown.emptyTitle')}>{t('monitoringPage.breakdown.emptyBody')}</EmptyState>
      </div>
    );
  }

  const cost = (r: BreakdownRow) =>
    r.attempts > 0 && r.unpriced === r.attempts ? (
      <span className="muted" title={t('monitoringPage.breakdown.unpricedTitle')}>
        {t('monitoringPage.breakdown.unpriced')}
      </span>
    ) : (
      <span title={r.unpriced > 0 ? t('monitoringPage.kpi.unpriced', { count: r.unpriced, value: f.number(r.unpriced) }) : undefined}>
        {f.usd(r.costUsd)}
        {r.unpriced > 0 ? '*' : ''}
      </span>
    );

  return (
    <div className="table-wrap">
      <table className="table mon-table" data-testid="breakdown-table" data-by={tab}>
        <caption className="visually-hidden">{t('monitoringPage.breakdown.caption', { dim: t(`monitoringPage.dims.${tab}`) })}</caption>
        <thead>
          <tr>
            {COLUMNS.map((c) => {
              const active = sort.key === c.key;
              return (
                <th
                  key={c.key}
                  scope="col"
                  className={c.end ? 'align-end' : undefined}
                  aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
                >
                  <button type="button" className="mon-sort" onClick={() => setSort((s) => nextSort(s, c.key))}>
                    {c.key === 'label' ? t(`monitoringPage.dims.${tab}`) : t(`monitoringPage.breakdown.${c.key}`)}
                    <span className="mon-sort-mark" aria-hidden="true">
                      {active ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                    </span>
                  </button>
                </th>
              );
            })}
            <th scope="col">{t('monitoringPage.breakdown.share')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const share = total > 0 ? r.attempts / total : 0;
            const pick = r.other ? undefined : () => onPick(r.key);
            return (
              <tr
                key={r.other ? '\u0000other' : r.key}
                data-testid="breakdown-row"
                data-key={r.other ? '' : r.key}
                data-other={r.other || undefined}
                className={pick ? 'mon-row-click' : undefined}
                onClick={pick}
                onKeyDown={pick ? rowKeyHandler(pick) : undefined}
                tabIndex={pick ? 0 : undefined}
                title={pick ? t('monitoringPage.breakdown.pick') : undefined}
              >
                <td className="cell-main">
                  {r.other ? (
                    <span className="muted">{t('monitoringPage.breakdown.other')}</span>
                  ) : (
                    <span className="mon-label">
                      <span>{rowLabel(r) || t('monitoringPage.breakdown.none')}</span>
                      {r.hint ? <small className="muted mono">{r.hint}</small> : null}
                    </span>
                  )}
                </td>
                <td className="align-end">{f.number(r.attempts)}</td>
                <td className={'align-end' + (r.failureRate > 0 ? ' mon-bad' : '')}>{f.percent(r.failureRate)}</td>
                <td className="align-end" title={f.number(r.tokens.total)}>
                  {f.tokens(r.tokens.total)}
                </td>
                <td className="align-end">{cost(r)}</td>
                <td className="align-end">{r.attempts > 0 ? f.duration(r.latencyP95Ms) : '—'}</td>
                <td>
                  <ShareBar share={share} label={f.percent(share)} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Totals per value of one dimension; a click on a row filters the page by it. */
export function BreakdownCard({
  tab,
  onTab,
  query,
  onPick,
}: {
  tab: BreakdownTab;
  onTab: (tab: BreakdownTab) => void;
  query: UseQueryResult<BreakdownResponse>;
  onPick: (tab: BreakdownTab, key: string) => void;
}) {
  const { t } = useTranslation();
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = BREAKDOWN_TABS.indexOf(tab);
    let next: BreakdownTab | undefined;
    if (e.key === 'ArrowRight') next = BREAKDOWN_TABS[(i + 1) % BREAKDOWN_TABS.length];
    else if (e.key === 'ArrowLeft') next = BREAKDOWN_TABS[(i - 1 + BREAKDOWN_TABS.length) % BREAKDOWN_TABS.length];
    else if (e.key === 'Home') next = BREAKDOWN_TABS[0];
    else if (e.key === 'End') next = BREAKDOWN_TABS[BREAKDOWN_TABS.length - 1];
    if (next) {
      e.preventDefault();
      onTab(next);
      // Keep the focus on the tab that became active.
      const el = e.currentTarget.querySelector<HTMLButtonElement>(`[data-tab="${next}"]`);
      el?.focus();
    }
  };
  return (
    <Card title={t('monitoringPage.breakdown.title')} subtitle={t('monitoringPage.breakdown.subtitle')} flush>
      <div className="mon-tabs" role="tablist" aria-label={t('monitoringPage.breakdown.by')} onKeyDown={onKey}>
        {BREAKDOWN_TABS.map((b) => (
          <button
            key={b}
            type="button"
            role="tab"
            className="mon-tab"
            aria-selected={b === tab}
            tabIndex={b === tab ? 0 : -1}
            data-tab={b}
            data-testid={`breakdown-tab-${b}`}
            onClick={() => onTab(b)}
          >
            {t(`monitoringPage.dims.${b}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={t(`monitoringPage.dims.${tab}`)} aria-busy={query.isFetching || undefined}>
        {query.data !== undefined && query.data.by !== tab ? (
          // The previous tab's rows, kept while the new tab loads: not under this heading.
          <div className="card-pad">
            <SkeletonLines lines={6} />
          </div>
        ) : (
          <div className={query.data ? undefined : 'card-pad'}>
            <QueryView query={query} loading={<SkeletonLines lines={6} />}>
              {(data) => <BreakdownTable key={tab} data={data} tab={tab} onPick={(key) => onPick(tab, key)} />}
            </QueryView>
          </div>
        )}
      </div>
    </Card>
  );
}
