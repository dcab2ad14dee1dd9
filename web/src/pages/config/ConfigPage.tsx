// Configuration, in two tabs. "Settings": a visual editor of CPA's scalar
// runtime settings (loaded from GET /config, saved one route at a time
// after a confirmation) and a read-only card with what the panel itself
// knows. Only the scalar keys of logic.ts are kept from /config: its
// api-keys and provider keys are never stored, shown or logged.
// "config.yaml": the raw file in a code editor (YamlTab, loaded lazily).
// Leaving the page with unsaved edits in either tab asks first.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useCallback, useEffect, useId, useMemo, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useStatus } from '../../api/queries';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import type { ApiClient } from '../../api/client';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorBox } from '../../components/ErrorBox';
import { PageHeader } from '../../components/PageHeader';
import { SkeletonLines } from '../../components/Skeleton';
import { setQuery, useLocation } from '../../app/router';
import { CONFIG_KEY, CONFIG_YAML_KEY } from './api';
import {
  buildRequests,
  changedSettings,
  formFromConfig,
  GROUPS,
  sendAll,
  SETTINGS,
  spanParts,
  STRATEGIES,
  validateForm,
  type FormValues,
  type LoadedConfig,
  type SaveResult,
  type SettingDef,
  type SettingId,
  type ValidationError,
} from './logic';
import { useLeaveGuard } from './useLeaveGuard';
import './config.css';

const YamlTab = lazy(() => import('./YamlTab'));

const TABS = ['settings', 'yaml'] as const;
type Tab = (typeof TABS)[number];

async function loadConfig(api: ApiClient, signal: AbortSignal): Promise<LoadedConfig> {
  // Mapped right away: only the scalar settings reach the query cache.
  return formFromConfig(await api.management<unknown>('/config', { signal }));
}

export function ConfigPage() {
  const { t } = useTranslation();
  const tab: Tab = useLocation().query.get('tab') === 'yaml' ? 'yaml' : 'settings';
  // The YAML tab stays mounted once opened, so its edit survives tab switches.
  const [yamlMounted, setYamlMounted] = useState(tab === 'yaml');
  if (tab === 'yaml' && !yamlMounted) setYamlMounted(true);
  const [yamlDirty, setYamlDirty] = useState(false);
  const [settingsDirty, setSettingsDirty] = useState(false);
  const [leaveTarget, setLeaveTarget] = useState<string | null>(null);
  const guard = useLeaveGuard(settingsDirty || yamlDirty, setLeaveTarget);
  const onYamlDirty = useCallback((d: boolean) => setYamlDirty(d), []);

  const selectTab = (next: Tab) => setQuery({ tab: next === 'settings' ? null : next });
  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = TABS.indexOf(tab);
    let next: Tab | undefined;
    if (e.key === 'ArrowRight') next = TABS[(i + 1) % TABS.length];
    else if (e.key === 'ArrowLeft') next = TABS[(i - 1 + TABS.length) % TABS.length];
    else if (e.key === 'Home') next = TABS[0];
    else if (e.key === 'End') next = TABS[TABS.length - 1];
    if (next) {
      e.preventDefault();
      selectTab(next);
      e.currentTarget.querySelector<HTMLButtonElement>(`[data-tab="${next}"]`)?.focus();
    }
  };

  return (
    <div className="stack config-page" data-testid="config-page" data-tab={tab}>
      <PageHeader title={t('configPage.title')} description={t('configPage.description')} />
      <div className="config-tabs" role="tablist" aria-label={t('configPage.tabs.label')} onKeyDown={onTabKey}>
        {TABS.map((id) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`config-tab-${id}`}
            className="config-tab"
            aria-selected={id === tab}
            aria-controls={`config-panel-${id}`}
            tabIndex={id === tab ? 0 : -1}
            data-tab={id}
            data-testid={`config-tab-${id}`}
            onClick={() => selectTab(id)}
          >
            {t(`configPage.tabs.${id}`)}
            {(id === 'settings' ? settingsDirty : yamlDirty) ? (
              <span className="config-tab-dot" title={t('configPage.tabs.unsaved')} aria-label={t('configPage.tabs.unsaved')} />
            ) : null}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="config-panel-settings" aria-labelledby="config-tab-settings" hidden={tab !== 'settings'}>
        <SettingsTab onDirtyChange={setSettingsDirty} />
      </div>
      {yamlMounted ? (
        <div role="tabpanel" id="config-panel-yaml" aria-labelledby="config-tab-yaml" hidden={tab !== 'yaml'}>
          <Suspense
            fallback={
              <Card>
                <SkeletonLines lines={10} />
              </Card>
            }
          >
            <YamlTab onDirtyChange={onYamlDirty} />
          </Suspense>
        </div>
      ) : null}

      <ConfirmDialog
        open={leaveTarget !== null}
        title={t('configPage.leave.title')}
        confirmLabel={t('configPage.leave.confirm')}
        tone="danger"
        onConfirm={() => {
          const target = leaveTarget;
          setLeaveTarget(null);
          if (target !== null) guard.leave(target);
        }}
        onClose={() => setLeaveTarget(null)}
        confirmTestId="config-leave-confirm"
        testId="config-leave-dialog"
      >
        <p>{t('configPage.leave.body')}</p>
        <ul data-testid="config-leave-list">
          {settingsDirty ? <li data-tab="settings">{t('configPage.leave.settings')}</li> : null}
          {yamlDirty ? <li data-tab="yaml">{t('configPage.leave.yaml')}</li> : null}
        </ul>
      </ConfirmDialog>
    </div>
  );
}

function SettingsTab({ onDirtyChange }: { onDirtyChange: (dirty: boolean) => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useQuery({ queryKey: CONFIG_KEY, queryFn: ({ signal }) => loadConfig(api, signal) });

  const [edits, setEdits] = useState<Partial<FormValues>>({});
  const [confirmOpen, setConfirmOpen] = useState(false);
  const [saving, setSaving] = useState(false);
  const [results, setResults] = useState<SaveResult[] | null>(null);

  const loaded = query.data;
  const current = useMemo<FormValues | null>(() => (loaded ? { ...loaded.values, ...edits } : null), [loaded, edits]);
  const changed = useMemo(() => (loaded && current ? changedSettings(loaded.values, current) : []), [loaded, current]);
  const errors = useMemo(() => (current ? validateForm(current) : {}), [current]);
  const invalid = changed.some((id) => errors[id] !== undefined);
  const dirty = changed.length > 0;
  useEffect(() => {
    onDirtyChange(dirty);
  }, [dirty, onDirtyChange]);

  const setValue = (id: SettingId, value: boolean | string) => setEdits((e) => ({ ...e, [id]: value }));

  const save = async () => {
    if (!loaded || !current) return;
    setSaving(true);
    try {
      const requests = buildRequests(loaded.values, current);
      const out = await sendAll(requests, (r) => api.management(r.path, { method: r.method, body: r.body }));
      setResults(out);
      setConfirmOpen(false);
      await queryClient.refetchQueries({ queryKey: CONFIG_KEY, exact: true });
      // config.yaml changed with it (the YAML tab takes it over unless edited).
      void queryClient.invalidateQueries({ queryKey: CONFIG_YAML_KEY, exact: true });
      const saved = new Set(out.filter((r) => r.ok).map((r) => r.id));
      setEdits((e) => {
        const next: Partial<FormValues> = {};
        for (const [k, v] of Object.entries(e) as [SettingId, boolean | string][]) if (!saved.has(k)) next[k] = v;
        return next;
      });
    } finally {
      setSaving(false);
      setConfirmOpen(false);
    }
  };

  const show = (id: SettingId, v: boolean | string): string => {
    if (typeof v === 'boolean') return v ? t('common.on') : t('common.off');
    if (id === 'routing-strategy') {
      const s = STRATEGIES.find((x) => x === v);
      return s ? t(`configPage.strategies.${s}`) : v;
    }
    if (id === 'proxy-url' && v.trim() === '') return t('configPage.proxyCleared');
    return v.trim();
  };

  const turningUsageOff = loaded?.values['usage-statistics-enabled'] === true && current?.['usage-statistics-enabled'] === false;

  return (
    <div className="stack">
      <div className="config-toolbar">
        {loaded ? (
          <>
            <span className="muted config-pending" data-testid="config-pending" data-count={changed.length}>
              {changed.length > 0 ? t('configPage.pending', { count: changed.length }) : t('configPage.noChanges')}
            </span>
            <Button onClick={() => setEdits({})} disabled={changed.length === 0 || saving} data-testid="config-discard">
              {t('configPage.discard')}
            </Button>
            <Button
              variant="primary"
              onClick={() => setConfirmOpen(true)}
              disabled={changed.length === 0 || invalid || saving}
              loading={saving}
              data-testid="config-save"
            >
              {t('configPage.save')}
            </Button>
          </>
        ) : null}
      </div>

      {results ? <ResultsCard results={results} onDismiss={() => setResults(null)} /> : null}

      {query.isError ? (
        <ErrorBox error={query.error} onRetry={() => void query.refetch()} />
      ) : !loaded || !current ? (
        <Card>
          <SkeletonLines lines={6} />
        </Card>
      ) : (
        <div className="config-groups">
          {GROUPS.map((group) => (
            <Card key={group} title={t(`configPage.groups.${group}`)} data-testid={`config-group-${group}`}>
              <div className="config-fields">
                {SETTINGS.filter((s) => s.group === group).map((s) => (
                  <Field
                    key={s.id}
                    def={s}
                    value={current[s.id]}
                    changed={changed.includes(s.id)}
                    missing={loaded.missing.includes(s.id)}
                    error={changed.includes(s.id) ? errors[s.id] : undefined}
                    disabled={saving}
                    onChange={(v) => setValue(s.id, v)}
                  />
                ))}
                {group === 'usage' ? (
                  <>
                    <div
                      className={current['usage-statistics-enabled'] === false ? 'alert alert-warn' : 'alert alert-info'}
                      role={turningUsageOff ? 'alert' : undefined}
                      data-testid="config-usage-warning"
                    >
                      {current['usage-statistics-enabled'] === false && !turningUsageOff
                        ? t('configPage.usageWarningOff')
                        : t('configPage.usageWarning')}
                    </div>
                    <div className="config-field config-readonly">
                      <span className="field-label">{t('configPage.retention')}</span>
                      <span data-testid="config-retention">
                        {loaded.retentionSeconds === null
                          ? t('common.unknown')
                          : t('configPage.retentionValue', { seconds: loaded.retentionSeconds })}
                      </span>
                      <span className="field-hint">{t('configPage.retentionHint')}</span>
                    </div>
                  </>
                ) : null}
              </div>
            </Card>
          ))}
          <PanelSettingsCard />
          <CpamSettingsCard />
        </div>
      )}

      <ConfirmDialog
        open={confirmOpen}
        title={t('configPage.confirmTitle')}
        confirmLabel={t('configPage.confirm')}
        busy={saving}
        onConfirm={() => void save()}
        onClose={() => setConfirmOpen(false)}
        confirmTestId="config-save-confirm"
        testId="config-save-dialog"
        wide
      >
        <p>{t('configPage.confirmIntro')}</p>
        {turningUsageOff ? <div className="alert alert-warn">{t('configPage.confirmUsageOff')}</div> : null}
        {loaded && current ? (
          <ul className="config-change-list" data-testid="config-change-list">
            {changed.map((id) => (
              <li key={id} data-setting={id}>
                <strong>{t(`configPage.fields.${id}.label`)}</strong>: <span className="muted">{show(id, loaded.values[id])}</span> →{' '}
                <span>{show(id, current[id])}</span>
              </li>
            ))}
          </ul>
        ) : null}
      </ConfirmDialog>
    </div>
  );
}

interface FieldProps {
  def: SettingDef;
  value: boolean | string;
  changed: boolean;
  missing: boolean;
  error: ValidationError | undefined;
  disabled: boolean;
  onChange: (v: boolean | string) => void;
}

function Field({ def, value, changed, missing, error, disabled, onChange }: FieldProps) {
  const { t } = useTranslation();
  const id = useId();
  const testId = `config-field-${def.id}`;
  const hintId = id + '-hint';
  const label = t(`configPage.fields.${def.id}.label`);
  const badge = changed ? <span className="badge badge-info">{t('configPage.changed')}</span> : null;
  const hint = (
    <span id={hintId} className="field-hint">
      {t(`configPage.fields.${def.id}.hint`)}
      {missing ? ' ' + t('configPage.missing') : null}
    </span>
  );
  const errorText = error ? (
    <span className="config-error" role="alert" data-testid={`config-error-${def.id}`}>
      {t(`configPage.errors.${error}`)}
    </span>
  ) : null;

  if (def.kind === 'bool') {
    return (
      <div className={'config-field config-bool' + (changed ? ' is-changed' : '')}>
        <label className="config-check" htmlFor={id}>
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            disabled={disabled}
            aria-describedby={hintId}
            onChange={(e) => onChange(e.target.checked)}
            data-testid={testId}
          />
          <span className="field-label">{label}</span>
          {badge}
        </label>
        {hint}
      </div>
    );
  }

  const text = typeof value === 'string' ? value : '';
  return (
    <div className={'config-field' + (changed ? ' is-changed' : '')}>
      <label className="config-label-row" htmlFor={id}>
        <span className="field-label">{label}</span>
        {badge}
      </label>
      {def.kind === 'strategy' ? (
        <select
          id={id}
          className="select"
          value={text}
          disabled={disabled}
          aria-describedby={hintId}
          onChange={(e) => onChange(e.target.value)}
          data-testid={testId}
        >
          {STRATEGIES.includes(text as (typeof STRATEGIES)[number]) ? null : <option value={text}>{text}</option>}
          {STRATEGIES.map((s) => (
            <option key={s} value={s}>
              {t(`configPage.strategies.${s}`)}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          className="input"
          type="text"
          inputMode={def.kind === 'int' ? 'numeric' : 'url'}
          spellCheck={false}
          autoComplete="off"
          value={text}
          disabled={disabled}
          aria-invalid={error ? true : undefined}
          aria-describedby={hintId}
          placeholder={def.kind === 'url' ? 'http://proxy.example:3128' : undefined}
          onChange={(e) => onChange(e.target.value)}
          data-testid={testId}
        />
      )}
      {errorText}
      {hint}
    </div>
  );
}

function ResultsCard({ results, onDismiss }: { results: SaveResult[]; onDismiss: () => void }) {
  const { t } = useTranslation();
  const ok = results.filter((r) => r.ok).length;
  return (
    <Card
      title={t('configPage.resultTitle')}
      subtitle={t('configPage.resultSummary', { ok, failed: results.length - ok })}
      actions={
        <Button size="sm" variant="ghost" onClick={onDismiss}>
          {t('configPage.dismiss')}
        </Button>
      }
    >
      <ul className="config-result" data-testid="config-result" data-ok={ok} data-failed={results.length - ok}>
        {results.map((r) => (
          <li key={r.id} data-testid="config-result-item" data-setting={r.id} data-state={r.ok ? 'ok' : 'error'}>
            <span className={r.ok ? 'badge badge-ok' : 'badge badge-danger'}>
              {r.ok ? t('configPage.resultOk') : t('configPage.resultFailed')}
            </span>{' '}
            <strong>{t(`configPage.fields.${r.id}.label`)}</strong>
            {r.ok ? null : <span className="config-error">: {r.message}</span>}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function PanelSettingsCard() {
  const { t } = useTranslation();
  const conn = useApi().connection;
  return (
    <Card title={t('configPage.panelTitle')} subtitle={t('configPage.panelSubtitle')} data-testid="config-panel-settings">
      <dl className="dl">
        <dt>{t('configPage.mode')}</dt>
        <dd data-testid="config-panel-mode" data-mode={conn.mode}>
          {conn.mode === 'hosted' ? t('configPage.modeHosted') : t('configPage.modeCpa')}
        </dd>
        {conn.mode === 'hosted' ? (
          <>
            <dt>{t('configPage.apiBase')}</dt>
            <dd>
              <code data-testid="config-panel-api-base">{conn.apiBase}</code>
            </dd>
          </>
        ) : (
          <>
            <dt>{t('configPage.usageUrl')}</dt>
            <dd>
              <code data-testid="config-panel-usage-url">{conn.usageUrl}</code>
            </dd>
          </>
        )}
        <dt>{t('configPage.managementBase')}</dt>
        <dd>
          <code data-testid="config-panel-management-base">{conn.managementBase}</code>
        </dd>
      </dl>
    </Card>
  );
}

/** A span of seconds in words ("90 d", "12 h"). */
function useSpan(): (seconds: number) => string {
  const { t } = useTranslation();
  return (seconds) => {
    const { n, unit } = spanParts(seconds);
    return t(`configPage.span.${unit}`, { n });
  };
}

/** caddy-cpam's own configuration, read-only, from /status. */
function CpamSettingsCard() {
  const { t } = useTranslation();
  const f = useFormat();
  const span = useSpan();
  const status = useStatus();
  const st = status.data?.settings;
  let body;
  if (status.isPending) body = <SkeletonLines lines={6} />;
  else if (status.isError) body = <ErrorBox error={status.error} />;
  else if (!st) body = <p className="muted">{t('configPage.cpamUnavailable')}</p>;
  else
    body = (
      <dl className="dl" data-testid="config-cpam-settings-list">
        <dt>{t('configPage.cpamUpstreams')}</dt>
        <dd>
          <ul className="config-cpam-upstreams">
            {st.upstreams.map((u) => (
              <li key={u.name} data-testid="config-cpam-upstream" data-name={u.name}>
                <strong>{u.name}</strong> <code>{u.url}</code>{' '}
                <span className="muted">{t('configPage.cpamCollector', { mode: u.collector || 'auto' })}</span>{' '}
                <Badge tone={u.managementKeySet ? 'ok' : 'warn'}>
                  {u.managementKeySet ? t('configPage.cpamKeySet') : t('configPage.cpamKeyMissing')}
                </Badge>
                {u.tlsInsecureSkipVerify ? <Badge tone="warn">{t('configPage.cpamInsecure')}</Badge> : null}
              </li>
            ))}
          </ul>
        </dd>
        <dt>{t('configPage.cpamAdminKey')}</dt>
        <dd data-testid="config-cpam-admin-key">
          {st.adminKey === 'configured' ? t('configPage.cpamAdminConfigured') : t('configPage.cpamAdminGenerated')}
        </dd>
        <dt>{t('configPage.cpamRetention')}</dt>
        <dd data-testid="config-cpam-retention">{span(st.retentionSeconds)}</dd>
        <dt>{t('configPage.cpamSessionTtl')}</dt>
        <dd>{span(st.sessionTtlSeconds)}</dd>
        <dt>{t('configPage.cpamQueryLimit')}</dt>
        <dd>{f.number(st.queryLimit)}</dd>
        <dt>{t('configPage.cpamMaxImport')}</dt>
        <dd>{f.bytes(st.maxImportSize)}</dd>
        <dt>{t('configPage.cpamCors')}</dt>
        <dd data-testid="config-cpam-cors">
          {st.corsOrigins.length === 0 ? t('configPage.cpamCorsNone') : st.corsOrigins.map((o) => <code key={o}>{o}</code>)}
        </dd>
        <dt>{t('configPage.cpamPriceSources')}</dt>
        <dd>
          {st.priceSources.length === 0 ? (
            t('configPage.cpamPriceNone')
          ) : (
            <ul className="config-cpam-upstreams">
              {st.priceSources.map((p) => (
                <li key={p.name}>
                  <strong>{p.name}</strong> <code>{p.url}</code>
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
    );
  return (
    <Card title={t('configPage.cpamTitle')} subtitle={t('configPage.cpamSubtitle')} data-testid="config-cpam-settings">
      {body}
    </Card>
  );
}
