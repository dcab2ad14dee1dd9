// Auth files: the OAuth credentials CPA keeps in its auth-dir, with their
// usage of the last 7 days from our store. Upload (several files, drag and
// drop, pasted JSON), download, delete, enable/disable, field edits, models
// per file, and the OAuth excluded-models / model-alias maps.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { PageHeader } from '../../components/PageHeader';
import { SkeletonLines } from '../../components/Skeleton';
import { AUTH_FILES_KEY, deleteFiles, downloadFile, setDisabled, useAccountUsage, useAuthFiles } from './api';
import { DetailsDrawer } from './DetailsDrawer';
import { FieldsDialog } from './FieldsDialog';
import { FilterSelect } from './FilterSelect';
import { LabelledInput } from './LabelledInput';
import {
  distinctValues,
  firstText,
  filterFiles,
  NO_FILTERS,
  nameParts,
  providerOf,
  pruneSelection,
  statusOf,
  statusTone,
  usageByAuthIndex,
  type AuthFileEntry,
  type BatchFailure,
  type Filters,
} from './logic';
import { ModelMaps } from './ModelMaps';
import { ResultNotice, type Outcome } from './ResultNotice';
import { RowAction } from './RowAction';
import { UploadCard } from './UploadCard';
import './authfiles.css';

export function AuthFilesPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const api = useApi();
  const qc = useQueryClient();
  const id = useId();
  const files = useAuthFiles();
  const usage = useAccountUsage();

  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [selectedRaw, setSelected] = useState<ReadonlySet<string>>(() => new Set());
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [toDelete, setToDelete] = useState<string[] | null>(null);
  const [editing, setEditing] = useState<AuthFileEntry | null>(null);
  const [details, setDetails] = useState<string | null>(null);

  const all = useMemo(() => files.data ?? [], [files.data]);
  const selected = useMemo(() => pruneSelection(selectedRaw, all), [selectedRaw, all]);
  const shown = useMemo(() => filterFiles(all, filters), [all, filters]);
  const usageMap = useMemo(() => usageByAuthIndex(usage.data?.rows ?? []), [usage.data]);
  const providers = useMemo(() => distinctValues(all, providerOf), [all]);
  const statuses = useMemo(() => distinctValues(all, statusOf), [all]);
  const detailsEntry = details === null ? null : (all.find((x) => x.name === details) ?? null);

  const refresh = () => qc.invalidateQueries({ queryKey: AUTH_FILES_KEY });

  const allShownSelected = shown.length > 0 && shown.every((x) => selected.has(x.name));
  const toggleAll = () => {
    const next = new Set(selected);
    if (allShownSelected) for (const x of shown) next.delete(x.name);
    else for (const x of shown) next.add(x.name);
    setSelected(next);
  };
  const toggleOne = (name: string) => {
    const next = new Set(selected);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setSelected(next);
  };

  const runBatch = async (names: string[], action: (name: string) => Promise<void>, okKey: 'enabled' | 'disabled') => {
    setBusy(true);
    const failed: BatchFailure[] = [];
    let done = 0;
    for (const name of names) {
      try {
        await action(name);
        done++;
      } catch (e) {
        failed.push({ name, error: e instanceof Error ? e.message : String(e) });
      }
    }
    await refresh();
    setBusy(false);
    setOutcome({
      state: failed.length === 0 ? 'ok' : done === 0 ? 'error' : 'partial',
      message: t(`authFilesPage.result.${okKey}`, { count: done }),
      failed,
    });
  };

  const toggleDisabled = (entries: AuthFileEntry[], disabled: boolean) =>
    void runBatch(
      entries.map((x) => x.name),
      (name) => setDisabled(api, entries.find((x) => x.name === name) ?? { name }, disabled),
      disabled ? 'disabled' : 'enabled',
    );

  const confirmDelete = async () => {
    if (!toDelete) return;
    setBusy(true);
    try {
      const r = await deleteFiles(api, toDelete);
      setOutcome({
        state: r.failed.length === 0 ? 'ok' : r.done.length === 0 ? 'error' : 'partial',
        message: t('authFilesPage.result.deleted', { count: r.done.length }),
        failed: r.failed,
      });
      setToDelete(null);
      await refresh();
    } catch (e) {
      setOutcome({ state: 'error', message: t('authFilesPage.result.deleteFailed'), failed: [], error: e });
      setToDelete(null);
    } finally {
      setBusy(false);
    }
  };

  const download = async (name: string) => {
    try {
      await downloadFile(api, name);
    } catch (e) {
      setOutcome({ state: 'error', message: t('authFilesPage.result.downloadFailed', { name }), failed: [], error: e });
    }
  };

  const selectedEntries = all.filter((x) => selected.has(x.name));

  let body;
  if (files.data === undefined) {
    body = files.error ? <ErrorBox error={files.error} onRetry={() => void files.refetch()} /> : <SkeletonLines lines={5} />;
  } else if (all.length === 0) {
    body = <EmptyState title={t('authFilesPage.table.emptyTitle')}>{t('authFilesPage.table.emptyBody')}</EmptyState>;
  } else {
    body = (
      <>
        <div className="af-filters card-pad">
          <LabelledInput
            id={`${id}-search`}
            label={t('authFilesPage.filters.search')}
            fieldClassName="field af-search"
            type="search"
            value={filters.search}
            placeholder={t('authFilesPage.filters.searchPlaceholder')}
            onChange={(e) => setFilters({ ...filters, search: e.target.value })}
            data-testid="authfiles-search"
          />
          <FilterSelect
            id={`${id}-provider`}
            label={t('authFilesPage.filters.provider')}
            value={filters.provider}
            options={[{ value: '', label: t('authFilesPage.filters.all') }, ...providers.map((p) => ({ value: p, label: p }))]}
            onChange={(provider) => setFilters({ ...filters, provider })}
            testId="authfiles-filter-provider"
          />
          <FilterSelect
            id={`${id}-status`}
            label={t('authFilesPage.filters.status')}
            value={filters.status}
            options={[{ value: '', label: t('authFilesPage.filters.all') }, ...statuses.map((s) => ({ value: s, label: s }))]}
            onChange={(status) => setFilters({ ...filters, status })}
            testId="authfiles-filter-status"
          />
          <FilterSelect
            id={`${id}-disabled`}
            label={t('authFilesPage.filters.enabled')}
            value={filters.disabled}
            options={[
              { value: 'all', label: t('authFilesPage.filters.all') },
              { value: 'enabled', label: t('authFilesPage.filters.onlyEnabled') },
              { value: 'disabled', label: t('authFilesPage.filters.onlyDisabled') },
            ]}
            onChange={(disabled) => setFilters({ ...filters, disabled: disabled as Filters['disabled'] })}
            testId="authfiles-filter-disabled"
          />
        </div>

        <div className="af-batch card-pad" role="toolbar" aria-label={t('authFilesPage.batch.label')}>
          <span className="muted" data-testid="authfiles-selected-count" data-count={selected.size}>
            {t('authFilesPage.batch.selected', { count: selected.size, total: all.length })}
          </span>
          <span className="spacer" />
          <Button
            size="sm"
            disabled={selected.size === 0 || busy}
            onClick={() => toggleDisabled(selectedEntries, false)}
            data-testid="authfiles-batch-enable"
          >
            {t('authFilesPage.batch.enable')}
          </Button>
          <Button
            size="sm"
            disabled={selected.size === 0 || busy}
            onClick={() => toggleDisabled(selectedEntries, true)}
            data-testid="authfiles-batch-disable"
          >
            {t('authFilesPage.batch.disable')}
          </Button>
          <Button
            size="sm"
            variant="danger"
            disabled={selected.size === 0 || busy}
            onClick={() => setToDelete([...selected].sort())}
            data-testid="authfiles-batch-delete"
          >
            {t('authFilesPage.batch.delete')}
          </Button>
        </div>

        {shown.length === 0 ? (
          <EmptyState title={t('authFilesPage.table.noMatchTitle')}>
            <Button size="sm" onClick={() => setFilters(NO_FILTERS)}>
              {t('authFilesPage.filters.clear')}
            </Button>
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table af-table">
              <caption className="visually-hidden">{t('authFilesPage.table.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col" className="af-check">
                    <input
                      type="checkbox"
                      checked={allShownSelected}
                      onChange={toggleAll}
                      aria-label={t('authFilesPage.table.selectAll')}
                      data-testid="authfiles-select-all"
                    />
                  </th>
                  <th scope="col" className="af-file">
                    {t('authFilesPage.table.name')}
                  </th>
                  <th scope="col" className="af-wrap-head">
                    {t('authFilesPage.table.providerStatus')}
                  </th>
                  <th scope="col">{t('authFilesPage.table.enabled')}</th>
                  <th scope="col" className="af-wrap-head">
                    {t('authFilesPage.table.lastRefresh')}
                  </th>
                  <th
                    scope="col"
                    className="align-end af-usage"
                    title={t('authFilesPage.table.usageTitle')}
                    data-testid="authfiles-usage-head"
                  >
                    {t('authFilesPage.table.requests')}
                  </th>
                  <th scope="col" className="align-end">
                    {t('authFilesPage.table.failures')}
                  </th>
                  <th scope="col" className="align-end">
                    {t('authFilesPage.table.tokens')}
                  </th>
                  <th scope="col" className="align-end">
                    {t('authFilesPage.table.cost')}
                  </th>
                  <th scope="col" className="af-actions-col">
                    <span className="visually-hidden">{t('authFilesPage.table.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((row) => {
                  const u = row.auth_index ? usageMap.get(row.auth_index) : undefined;
                  const status = statusOf(row);
                  const who = firstText(row.email, row.label);
                  const parts = nameParts(row.name);
                  return (
                    <tr
                      key={row.name}
                      data-testid="authfiles-row"
                      data-name={row.name}
                      data-disabled={row.disabled ? 'true' : 'false'}
                      className={row.disabled ? 'af-row-disabled' : undefined}
                    >
                      <td className="af-check">
                        <input
                          type="checkbox"
                          checked={selected.has(row.name)}
                          onChange={() => toggleOne(row.name)}
                          aria-label={t('authFilesPage.table.select', { name: row.name })}
                          data-testid="authfiles-select"
                        />
                      </td>
                      <td className="af-file">
                        <button
                          type="button"
                          className="af-link"
                          title={row.name}
                          aria-label={row.name}
                          onClick={() => setDetails(row.name)}
                          data-testid="authfiles-details"
                        >
                          <span className="af-name-head">{parts.head}</span>
                          {parts.tail ? <span className="af-name-tail">{parts.tail}</span> : null}
                        </button>
                        {who || row.project_id ? (
                          <div className="af-sub muted" title={[who, row.project_id].filter(Boolean).join(' · ')}>
                            {who ? <span>{who}</span> : null}
                            {who && row.project_id ? <span aria-hidden="true"> · </span> : null}
                            {row.project_id ? (
                              <span className="mono" data-testid="authfiles-project">
                                {row.project_id}
                              </span>
                            ) : null}
                          </div>
                        ) : null}
                        {row.label && row.email && row.label !== row.email ? (
                          <div className="af-sub faint" title={row.label}>
                            {row.label}
                          </div>
                        ) : null}
                        {row.priority !== undefined || row.note ? (
                          <div className="af-sub af-meta" title={firstText(row.note) || undefined}>
                            {row.priority !== undefined ? (
                              <span className="af-prio" data-testid="authfiles-priority">
                                {t('authFilesPage.table.priorityShort', { value: row.priority })}
                              </span>
                            ) : null}
                            {row.note ? (
                              <span className="af-note" data-testid="authfiles-note">
                                {row.note}
                              </span>
                            ) : null}
                          </div>
                        ) : null}
                      </td>
                      <td>
                        <div className="af-badges">
                          <Badge>{providerOf(row)}</Badge>
                          <Badge tone={statusTone(status)} title={firstText(row.status_message) || undefined}>
                            {status}
                          </Badge>
                        </div>
                        {row.status_message ? (
                          <div className="af-sub af-msg" title={row.status_message}>
                            {row.status_message}
                          </div>
                        ) : null}
                      </td>
                      <td>
                        <label className="af-switch">
                          <input
                            type="checkbox"
                            role="switch"
                            checked={!row.disabled}
                            disabled={busy}
                            onChange={() => toggleDisabled([row], !row.disabled)}
                            data-testid="authfiles-toggle"
                          />
                          <span className="visually-hidden">{t('authFilesPage.table.enabledLabel', { name: row.name })}</span>
                          <span aria-hidden="true">{row.disabled ? t('common.off') : t('common.on')}</span>
                        </label>
                      </td>
                      <td className="af-nowrap af-refresh">
                        {row.last_refresh ? (
                          <span title={f.dateTime(row.last_refresh)}>{f.relative(row.last_refresh)}</span>
                        ) : (
                          <span className="faint">—</span>
                        )}
                      </td>
                      <td className="align-end">{u ? f.number(u.attempts) : <span className="faint">0</span>}</td>
                      <td className="align-end">
                        {u && u.failed > 0 ? <span className="af-failed">{f.number(u.failed)}</span> : <span className="faint">0</span>}
                      </td>
                      <td className="align-end">{u ? f.tokens(u.tokens) : <span className="faint">0</span>}</td>
                      <td className="align-end">
                        {u ? (
                          <span title={u.unpriced > 0 ? t('authFilesPage.table.unpriced', { count: u.unpriced }) : undefined}>
                            {f.usd(u.costUsd)}
                            {u.unpriced > 0 ? '*' : ''}
                          </span>
                        ) : (
                          <span className="faint">—</span>
                        )}
                      </td>
                      <td>
                        <div className="af-actions">
                          <RowAction
                            icon="edit"
                            label={t('authFilesPage.actions.editLabel', { name: row.name })}
                            onClick={() => setEditing(row)}
                            disabled={busy}
                            testId="authfiles-edit"
                          />
                          <RowAction
                            icon="download"
                            label={t('authFilesPage.actions.downloadLabel', { name: row.name })}
                            onClick={() => void download(row.name)}
                            testId="authfiles-download"
                          />
                          <RowAction
                            icon="trash"
                            danger
                            label={t('authFilesPage.actions.deleteLabel', { name: row.name })}
                            onClick={() => setToDelete([row.name])}
                            disabled={busy}
                            testId="authfiles-delete"
                          />
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {usage.error ? (
          <div className="card-pad">
            <ErrorBox
              error={usage.error}
              title={t('authFilesPage.table.usageFailed')}
              onRetry={() => void usage.refetch()}
              testId="authfiles-usage-error"
            />
          </div>
        ) : null}
      </>
    );
  }

  return (
    <div className="page af-page" data-testid="auth-files-page">
      <PageHeader
        title={t('authFilesPage.title')}
        description={t('authFilesPage.description')}
        actions={
          <Button
            icon="refresh"
            loading={files.isFetching || usage.isFetching}
            onClick={() => {
              void files.refetch();
              void usage.refetch();
            }}
            data-testid="authfiles-refresh"
          >
            {t('common.refresh')}
          </Button>
        }
      />

      {outcome ? <ResultNotice outcome={outcome} onClose={() => setOutcome(null)} /> : null}

      <UploadCard onDone={(o) => setOutcome(o)} />

      <Card
        title={t('authFilesPage.table.title')}
        subtitle={t('authFilesPage.table.subtitle')}
        flush={files.data !== undefined && all.length > 0}
        data-testid="authfiles-table"
      >
        {body}
      </Card>

      <ModelMaps />

      <ConfirmDialog
        open={toDelete !== null}
        title={t('authFilesPage.delete.title', { count: toDelete?.length ?? 0 })}
        confirmLabel={t('authFilesPage.delete.confirm')}
        tone="danger"
        busy={busy}
        onConfirm={() => void confirmDelete()}
        onClose={() => setToDelete(null)}
        confirmTestId="authfiles-delete-confirm"
        testId="authfiles-delete-dialog"
      >
        <p>{t('authFilesPage.delete.body', { count: toDelete?.length ?? 0 })}</p>
        <ul className="af-delete-list">
          {(toDelete ?? []).map((n) => (
            <li key={n} className="mono">
              {n}
            </li>
          ))}
        </ul>
      </ConfirmDialog>

      {editing ? (
        <FieldsDialog
          entry={editing}
          onClose={() => setEditing(null)}
          onSaved={(name) => {
            setEditing(null);
            setOutcome({ state: 'ok', message: t('authFilesPage.result.saved', { name }), failed: [] });
            void refresh();
          }}
        />
      ) : null}

      {detailsEntry ? (
        <DetailsDrawer entry={detailsEntry} usage={usageMap.get(detailsEntry.auth_index ?? '')} onClose={() => setDetails(null)} />
      ) : null}
    </div>
  );
}
