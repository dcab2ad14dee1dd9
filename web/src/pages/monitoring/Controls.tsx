// The period bar (presets, custom bounds, bucket) and the filter bar (one
// select per dimension, the chosen values as removable chips).
import type { UseQueryResult } from '@tanstack/react-query';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { Bucket } from '../../api/types';
import { Button } from '../../components/Button';
import { Icon } from '../../components/Icon';
import type { ValueLabel } from './api';
import {
  activeFilterCount,
  autoBucket,
  BUCKETS,
  bucketFits,
  FILTER_DIMS,
  parseInstant,
  PRESETS,
  rangeProblem,
  toLocalInput,
  withFilter,
  withoutAllFilters,
  withoutFilter,
  withPreset,
  type FilterDim,
  type MonitoringState,
  type StatusFilter,
} from './state';
import type { FiltersResponse } from './types';
import type { TimeRange } from '../../lib/time';

export type Update = (next: (s: MonitoringState) => MonitoringState) => void;

export function useBucketLabel(): (b: Bucket) => string {
  const { t } = useTranslation();
  return (b) => t(`monitoringPage.bucket.${b}`);
}

export function PeriodBar({
  state,
  update,
  range,
  timeZone,
  bucket,
}: {
  state: MonitoringState;
  update: Update;
  /** The period shown now (null for an unusable custom one). */
  range: TimeRange | null;
  timeZone: string;
  /** The bucket in effect. */
  bucket: Bucket;
}) {
  const { t } = useTranslation();
  const bucketLabel = useBucketLabel();
  const id = useId();
  const span = range ? range.to - range.from : 0;
  const problem = rangeProblem(state);

  const setBound = (which: 'from' | 'to', value: string) => {
    const ms = parseInstant(value, timeZone);
    update((s) => ({ ...s, [which]: ms }));
  };

  return (
    <div className="mon-period">
      <div className="mon-presets" role="group" aria-label={t('monitoringPage.period.label')}>
        {PRESETS.map((p) => (
          <button
            key={p}
            type="button"
            className={'mon-preset' + (state.preset === p ? ' is-active' : '')}
            aria-pressed={state.preset === p}
            data-testid={`monitoring-preset-${p}`}
            onClick={() => update((s) => withPreset(s, p, range))}
          >
            {t(`monitoringPage.period.${p}`)}
          </button>
        ))}
      </div>
      {state.preset === 'custom' ? (
        <div className="mon-custom">
          <label className="mon-field" htmlFor={`${id}-from`}>
            <span>{t('monitoringPage.period.from')}</span>
            <input
              id={`${id}-from`}
              className="input"
              type="datetime-local"
              value={state.from !== null ? toLocalInput(state.from, timeZone) : ''}
              onChange={(e) => setBound('from', e.target.value)}
              data-testid="monitoring-custom-from"
              aria-invalid={problem !== null || undefined}
            />
          </label>
          <label className="mon-field" htmlFor={`${id}-to`}>
            <span>{t('monitoringPage.period.to')}</span>
            <input
              id={`${id}-to`}
              className="input"
              type="datetime-local"
              value={state.to !== null ? toLocalInput(state.to, timeZone) : ''}
              onChange={(e) => setBound('to', e.target.value)}
              data-testid="monitoring-custom-to"
              aria-invalid={problem !== null || undefined}
            />
          </label>
        </div>
      ) : null}
      <label className="mon-field mon-bucket" htmlFor={`${id}-bucket`}>
        <span>{t('monitoringPage.bucket.label')}</span>
        <select
          id={`${id}-bucket`}
          className="select"
          value={state.bucket ?? ''}
          onChange={(e) => update((s) => ({ ...s, bucket: e.target.value === '' ? null : (e.target.value as Bucket) }))}
          data-testid="monitoring-bucket"
        >
          <option value="">{t('monitoringPage.bucket.auto', { bucket: bucketLabel(range ? autoBucket(span) : bucket) })}</option>
          {BUCKETS.map((b) => (
            <option key={b} value={b} disabled={range !== null && !bucketFits(b, span)}>
              {bucketLabel(b)}
            </option>
          ))}
        </select>
      </label>
      <span className="mon-tz muted">{t('monitoringPage.period.timeZone', { tz: timeZone })}</span>
      {problem !== null ? (
        <div className="mon-range-problem" role="alert" data-testid="monitoring-range-problem">
          <Icon name="alert" size={16} />
          {t(`monitoringPage.period.problem.${problem}`)}
        </div>
      ) : null}
    </div>
  );
}

interface Option {
  value: string;
  label: string;
}

/** The options of one dimension: the values seen in the period, plus any chosen value not among them. */
function optionsFor(dim: FilterDim, data: FiltersResponse | undefined, labels: Map<string, ValueLabel>, chosen: string[]): Option[] {
  let list: Option[];
  const plain = (values: string[] | undefined) => (values ?? []).map((v) => ({ value: v, label: v }));
  switch (dim) {
    case 'upstream':
      list = plain(data?.upstreams);
      break;
    case 'model':
      list = plain(data?.models);
      break;
    case 'alias':
      list = plain(data?.aliases);
      break;
    case 'provider':
      list = plain(data?.providers);
      break;
    case 'endpoint':
      list = plain(data?.endpoints);
      break;
    case 'account':
      list = (data?.accounts ?? []).map((v) => {
        const l = labels.get(v);
        return { value: v, label: l && l.label !== v ? `${l.label} (${v})` : v };
      });
      break;
    case 'api_key':
      list = (data?.apiKeys ?? []).map((k) => {
        const l = labels.get(k.hash);
        return { value: k.hash, label: l && l.label !== k.mask ? `${l.label} (${k.mask})` : k.mask };
      });
      break;
  }
  for (const v of chosen) if (!list.some((o) => o.value === v)) list.push({ value: v, label: labelOf(dim, v, labels) });
  return list;
}

/** The display form of a filter value: an API key's alias or mask, an account's name. */
export function labelOf(dim: FilterDim, value: string, labels: Map<string, ValueLabel>, data?: FiltersResponse): string {
  if (dim === 'api_key' || dim === 'account') {
    const l = labels.get(value);
    if (l) return l.label;
    if (dim === 'api_key') {
      const k = data?.apiKeys.find((x) => x.hash === value);
      if (k) return k.mask;
      return value.length > 12 ? value.slice(0, 12) + '…' : value;
    }
  }
  return value;
}

export function FilterBar({
  state,
  update,
  filters,
  labels,
}: {
  state: MonitoringState;
  update: Update;
  filters: UseQueryResult<FiltersResponse>;
  labels: { account: Map<string, ValueLabel>; api_key: Map<string, ValueLabel> };
}) {
  const { t } = useTranslation();
  const id = useId();
  const data = filters.data;
  const labelMap = (dim: FilterDim) =>
    dim === 'account' ? labels.account : dim === 'api_key' ? labels.api_key : new Map<string, ValueLabel>();
  const count = activeFilterCount(state);

  return (
    <div className="mon-filters" aria-busy={filters.isFetching || undefined}>
      <div className="mon-filter-grid">
        {FILTER_DIMS.map((dim) => {
          const chosen = state.filters[dim];
          const options = optionsFor(dim, data, labelMap(dim), chosen);
          const value = chosen.length === 1 ? (chosen[0] ?? '') : chosen.length > 1 ? '\u0000several' : '';
          return (
            <label key={dim} className="mon-field" htmlFor={`${id}-${dim}`}>
              <span>{t(`monitoringPage.dims.${dim}`)}</span>
              <select
                id={`${id}-${dim}`}
                className="select"
                value={value}
                onChange={(e) => update((s) => withFilter(s, dim, e.target.value))}
                data-testid={`monitoring-filter-${dim}`}
              >
                <option value="">{t('monitoringPage.filters.all')}</option>
                {chosen.length > 1 ? (
                  <option value={'\u0000several'} disabled>
                    {t('monitoringPage.filters.several', { count: chosen.length })}
                  </option>
                ) : null}
                {options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            </label>
          );
        })}
        <label className="mon-field" htmlFor={`${id}-status`}>
          <span>{t('monitoringPage.dims.status')}</span>
          <select
            id={`${id}-status`}
            className="select"
            value={state.status}
            onChange={(e) => update((s) => ({ ...s, status: e.target.value as StatusFilter }))}
            data-testid="monitoring-filter-status"
          >
            <option value="all">{t('monitoringPage.filters.statusAll')}</option>
            <option value="ok">{t('monitoringPage.filters.statusOk')}</option>
            <option value="failed">{t('monitoringPage.filters.statusFailed')}</option>
          </select>
        </label>
      </div>
      {count > 0 ? (
        <ul className="mon-chips" aria-label={t('monitoringPage.filters.active')}>
          {FILTER_DIMS.flatMap((dim) =>
            state.filters[dim].map((v) => {
              const label = labelOf(dim, v, labelMap(dim), data);
              const name = t(`monitoringPage.dims.${dim}`);
              return (
                <li key={`${dim}\u0000${v}`} className="mon-chip" data-testid={`monitoring-chip-${dim}`} data-value={v}>
                  <span className="mon-chip-dim">{name}</span>
                  <span className="mon-chip-value" title={v}>
                    {label}
                  </span>
                  <button
                    type="button"
                    className="mon-chip-remove"
                    aria-label={t('monitoringPage.filters.remove', { dim: name, value: label })}
                    onClick={() => update((s) => withoutFilter(s, dim, v))}
                  >
                    <Icon name="close" size={14} />
                  </button>
                </li>
              );
            }),
          )}
          {state.status !== 'all' ? (
            <li className="mon-chip" data-testid="monitoring-chip-status" data-value={state.status}>
              <span className="mon-chip-dim">{t('monitoringPage.dims.status')}</span>
              <span className="mon-chip-value">
                {state.status === 'ok' ? t('monitoringPage.filters.statusOk') : t('monitoringPage.filters.statusFailed')}
              </span>
              <button
                type="button"
                className="mon-chip-remove"
                aria-label={t('monitoringPage.filters.remove', {
                  dim: t('monitoringPage.dims.status'),
                  value: state.status === 'ok' ? t('monitoringPage.filters.statusOk') : t('monitoringPage.filters.statusFailed'),
                })}
                onClick={() => update((s) => ({ ...s, status: 'all' }))}
              >
                <Icon name="close" size={14} />
              </button>
            </li>
          ) : null}
          <li>
            <Button size="sm" variant="ghost" onClick={() => update(withoutAllFilters)} data-testid="monitoring-clear-filters">
              {t('monitoringPage.filters.clear')}
            </Button>
          </li>
        </ul>
      ) : null}
    </div>
  );
}
