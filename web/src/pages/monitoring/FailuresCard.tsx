import type { UseQueryResult } from '@tanstack/react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { BreakdownResponse } from '../../api/types';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { QueryView } from '../../components/QueryView';
import { SkeletonLines } from '../../components/Skeleton';
import { countByStatus, rowLabel, truncate } from './analysis';
import { rowKeyHandler, ShareBar } from './BreakdownCard';
import { accountName, useClock } from './format';
import type { FilterDim } from './state';
import type { FailuresResponse, UsageEvent } from './types';

const BODY_PREVIEW = 140;
/** Failures listed before "show all". */
const FIRST_ROWS = 10;

function MiniList({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="mon-mini">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

interface MiniRow {
  key: string;
  label: ReactNode;
  count: number;
  share: number;
  onPick?: () => void;
}

function MiniRows({ rows, empty }: { rows: MiniRow[]; empty: string }) {
  const f = useFormat();
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="mon-mini-rows">
      {rows.map((r) => (
        <li key={r.key}>
          {r.onPick ? (
            <button type="button" className="mon-mini-label mon-linkish" onClick={r.onPick}>
              {r.label}
            </button>
          ) : (
            <span className="mon-mini-label">{r.label}</span>
          )}
          <span className="num">{f.number(r.count)}</span>
          <ShareBar share={r.share} label={f.percent(r.share)} />
        </li>
      ))}
    </ul>
  );
}

function breakdownRows(data: BreakdownResponse, otherLabel: string, noneLabel: string, onPick?: (key: string) => void): MiniRow[] {
  const total = data.rows.reduce((n, r) => n + r.failed, 0);
  return data.rows
    .filter((r) => r.failed > 0)
    .map((r) => ({
      key: r.other ? '\u0000other' : r.key,
      label: r.other ? <span className="muted">{otherLabel}</span> : rowLabel(r) || noneLabel,
      count: r.failed,
      share: total > 0 ? r.failed / total : 0,
      onPick: r.other || !onPick ? undefined : () => onPick(r.key),
    }));
}

function FailBody({ text }: { text: string }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const preview = truncate(text.replace(/\s+/g, ' ').trim(), BODY_PREVIEW);
  if (text === '') return <span className="faint">—</span>;
  return (
    <div className="mon-failbody">
      {open ? <pre className="mon-pre">{text}</pre> : <span className="mono">{preview.text}</span>}
      {preview.truncated || open ? (
        <button
          type="button"
          className="mon-linkish"
          aria-expanded={open}
          onClick={(e) => {
            e.stopPropagation();
            setOpen((o) => !o);
          }}
        >
          {open ? t('monitoringPage.failures.less') : t('monitoringPage.failures.more')}
        </button>
      ) : null}
    </div>
  );
}

function FailuresTable({ data, onOpen }: { data: FailuresResponse; onOpen: (e: UsageEvent) => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const clock = useClock();
  const [all, setAll] = useState(false);
  const shown = all ? data.failures : data.failures.slice(0, FIRST_ROWS);
  if (data.failures.length === 0) {
    return <EmptyState title={t('monitoringPage.failures.emptyTitle')}>{t('monitoringPage.failures.emptyBody')}</EmptyState>;
  }
  return (
    <div className="table-wrap">
      <table className="table mon-table" data-testid="failures-list">
        <caption className="visually-hidden">{t('monitoringPage.failures.recent')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('monitoringPage.live.time')}</th>
            <th scope="col">{t('monitoringPage.live.status')}</th>
            <th scope="col">{t('monitoringPage.dims.model')}</th>
            <th scope="col">{t('monitoringPage.dims.account')}</th>
            <th scope="col">{t('monitoringPage.failures.body')}</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e) => (
            <tr
              key={e.id}
              data-testid="failure-row"
              data-request-id={e.requestId}
              className="mon-row-click"
              tabIndex={0}
              onClick={() => onOpen(e)}
              onKeyDown={rowKeyHandler(() => onOpen(e))}
            >
              <td className="mon-nowrap" title={f.dateTime(e.time)}>
                {clock.dayTime(e.time)}
              </td>
              <td>
                <Badge tone="danger">{e.statusCode || t('monitoringPage.live.noStatus')}</Badge>
              </td>
              <td className="mon-nowrap">{e.model || e.alias || '—'}</td>
              <td className="mon-ellipsis" title={e.authIndex}>
                {accountName(e)}
              </td>
              <td className="mon-body-cell">
                <FailBody text={e.failBody ?? ''} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.failures.length > shown.length ? (
        <div className="card-pad">
          <Button size="sm" onClick={() => setAll(true)} data-testid="failures-more">
            {t('monitoringPage.failures.showAll', { count: data.failures.length })}
          </Button>
        </div>
      ) : null}
    </div>
  );
}

/** Failures by HTTP status, model and account, and the newest failed attempts. */
export function FailuresCard({
  hidden,
  failures,
  byModel,
  byAccount,
  onOpen,
  onPick,
}: {
  /** The status filter shows successful attempts only. */
  hidden: boolean;
  failures: UseQueryResult<FailuresResponse>;
  byModel: UseQueryResult<BreakdownResponse>;
  byAccount: UseQueryResult<BreakdownResponse>;
  onOpen: (e: UsageEvent) => void;
  onPick: (dim: FilterDim, key: string) => void;
}) {
  const { t } = useTranslation();
  const statusRows = useMemo<MiniRow[]>(
    () =>
      failures.data
        ? countByStatus(failures.data.failures).map((s) => ({
            key: String(s.status),
            label: <span className="mono">{s.status || t('monitoringPage.live.noStatus')}</span>,
            count: s.count,
            share: s.share,
          }))
        : [],
    [failures.data, t],
  );
  const other = t('monitoringPage.breakdown.other');
  const none = t('monitoringPage.breakdown.none');
  const emptyMini = t('monitoringPage.failures.none');

  if (hidden) {
    return (
      <Card title={t('monitoringPage.failures.title')} data-testid="failures-card">
        <EmptyState title={t('monitoringPage.failures.hiddenTitle')} icon="info">
          {t('monitoringPage.failures.hiddenBody')}
        </EmptyState>
      </Card>
    );
  }

  return (
    <Card title={t('monitoringPage.failures.title')} subtitle={t('monitoringPage.failures.subtitle')} flush data-testid="failures-card">
      <div className="mon-minis">
        <MiniList
          title={
            failures.data && failures.data.failures.length > 0
              ? t('monitoringPage.failures.byStatusOf', { count: failures.data.failures.length })
              : t('monitoringPage.failures.byStatus')
          }
        >
          <QueryView query={failures} loading={<SkeletonLines lines={3} />}>
            {() => <MiniRows rows={statusRows} empty={emptyMini} />}
          </QueryView>
        </MiniList>
        <MiniList title={t('monitoringPage.failures.byModel')}>
          <QueryView query={byModel} loading={<SkeletonLines lines={3} />}>
            {(d) => <MiniRows rows={breakdownRows(d, other, none, (k) => onPick('model', k))} empty={emptyMini} />}
          </QueryView>
        </MiniList>
        <MiniList title={t('monitoringPage.failures.byAccount')}>
          <QueryView query={byAccount} loading={<SkeletonLines lines={3} />}>
            {(d) => <MiniRows rows={breakdownRows(d, other, none, (k) => onPick('account', k))} empty={emptyMini} />}
          </QueryView>
        </MiniList>
      </div>
      <h3 className="mon-subhead">{t('monitoringPage.failures.recent')}</h3>
      <div className={failures.data ? undefined : 'card-pad'}>
        <QueryView query={failures} loading={<SkeletonLines lines={4} />}>
          {(d) => <FailuresTable data={d} onOpen={onOpen} />}
        </QueryView>
      </div>
    </Card>
  );
}
