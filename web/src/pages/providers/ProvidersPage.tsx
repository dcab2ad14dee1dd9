// AI providers: CPA's API-key credentials by provider (Gemini, Codex,
// Claude, Vertex, xAI, interactions) and its OpenAI-compatible providers.
// Each credential shows its settings (keys masked), its auth-index and its
// last 7 days of usage from the usage store; it can be added, edited,
// deleted, disabled and tested (a model listing through CPA's /api-call).
import { useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { isApiError } from '../../api/errors';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { PageHeader } from '../../components/PageHeader';
import { SkeletonLines } from '../../components/Skeleton';
import {
  LIST_KEY,
  deleteCompat,
  deleteKeyEntry,
  importVertex,
  patchCompat,
  patchKeyEntry,
  putList,
  runProbe,
  setCredentialDisabled,
  useAccountUsage,
  useCompat,
  useKeySections,
  type VertexImportResult,
} from './api';
import { CompatEditor, KeyEditor } from './editors';
import {
  COMPAT_ROUTE,
  KEY_SECTIONS,
  isKeyDisabled,
  listWithAdded,
  maskKey,
  patchValue,
  probeRequest,
  stripCompat,
  stripKeyEntry,
  sumUsage,
  usageByAuthIndex,
  visibleExcluded,
  type CompatProvider,
  type CredentialUsage,
  type KeyEntry,
  type KeySection,
  type ModelAlias,
  type ProbeResult,
  type SectionId,
} from './logic';
import './providers.css';

type ProbeState = { running: true } | { running: false; result: ProbeResult } | { running: false; error: unknown };

type EditorState = { kind: 'key'; section: KeySection; index: number | null } | { kind: 'compat'; name: string | null };

type RemoveState = { kind: 'key'; section: KeySection; index: number; label: string } | { kind: 'compat'; name: string };

const DAY_MS = 86_400_000;

function modelsText(models: ModelAlias[] | null | undefined): ReactNode {
  if (!models || models.length === 0) return null;
  return (
    <span className="prov-chips">
      {models.map((m, i) => (
        <span key={i} className="prov-chip mono">
          {m.alias && m.alias !== m.name ? `${m.name} → ${m.alias}` : m.name}
        </span>
      ))}
    </span>
  );
}

function headersText(h: Record<string, string> | null | undefined): ReactNode {
  const names = Object.keys(h ?? {});
  if (names.length === 0) return null;
  // Header values may be secrets: only the names are shown.
  return <span className="mono">{names.join(', ')}</span>;
}

interface DlRow {
  label: string;
  value: ReactNode;
}

function Details({ rows }: { rows: DlRow[] }) {
  const shown = rows.filter((r) => r.value !== null && r.value !== undefined && r.value !== '');
  if (shown.length === 0) return null;
  return (
    <dl className="dl prov-dl">
      {shown.map((r) => (
        <div key={r.label} className="dl-row">
          <dt>{r.label}</dt>
          <dd>{r.value}</dd>
        </div>
      ))}
    </dl>
  );
}

function UsageLine({ authIndex, usage, loaded }: { authIndex: string; usage: CredentialUsage | undefined; loaded: boolean }) {
  const { t } = useTranslation();
  const f = useFormat();
  if (!loaded) return null;
  return (
    <div className="prov-usage" data-testid="providers-usage" data-auth-index={authIndex}>
      <span className="prov-usage-item">
        <span className="muted">{t('providersPage.usage.requests')}</span>{' '}
        <strong data-testid="providers-usage-requests">{f.number(usage?.attempts ?? 0)}</strong>
      </span>
      {usage && usage.attempts > 0 ? (
        <>
          <span className="prov-usage-item">
            <span className="muted">{t('providersPage.usage.successRate')}</span>{' '}
            <strong data-testid="providers-usage-success">{f.percent(usage.successRate)}</strong>
          </span>
          <span className="prov-usage-item">
            <span className="muted">{t('providersPage.usage.tokens')}</span> <strong>{f.tokens(usage.tokens)}</strong>
          </span>
          <span className="prov-usage-item">
            <span className="muted">{t('providersPage.usage.cost')}</span>{' '}
            <strong>
              {f.usd(usage.costUsd)}
              {usage.unpriced > 0 ? '*' : ''}
            </strong>
          </span>
        </>
      ) : (
        <span className="faint">{t('providersPage.usage.none')}</span>
      )}
    </div>
  );
}

function ProbeLine({ state }: { state: ProbeState | undefined }) {
  const { t } = useTranslation();
  if (!state || state.running) return null;
  if ('error' in state) {
    return (
      <div data-testid="providers-test-result" data-state="error">
        <ErrorBox error={state.error} title={t('providersPage.probe.failed')} />
      </div>
    );
  }
  const r = state.result;
  return (
    <div
      className={r.ok ? 'prov-probe prov-probe-ok' : 'prov-probe prov-probe-bad'}
      data-testid="providers-test-result"
      data-state={r.ok ? 'ok' : 'bad'}
    >
      <Badge tone={r.ok ? 'ok' : 'danger'}>
        <span data-testid="providers-test-status" data-status={r.status}>
          {t('providersPage.probe.status', { status: r.status })}
        </span>
      </Badge>
      <span className="muted">{t('providersPage.probe.latency', { ms: r.latencyMs })}</span>
      {r.models !== null ? <span data-testid="providers-test-models">{t('providersPage.probe.models', { count: r.models })}</span> : null}
      {r.error ? <pre className="prov-probe-body mono">{r.error}</pre> : null}
    </div>
  );
}

interface CredentialActions {
  onTest?: () => void;
  testing?: boolean;
  onToggle?: () => void;
  disabled: boolean;
  onEdit?: () => void;
  onDelete?: () => void;
  busy: boolean;
  name: string;
}

function Actions({ a }: { a: CredentialActions }) {
  const { t } = useTranslation();
  return (
    <div className="row prov-actions">
      {a.onTest ? (
        <Button
          size="sm"
          onClick={a.onTest}
          loading={a.testing}
          aria-label={t('providersPage.actions.testLabel', { name: a.name })}
          data-testid="providers-test"
        >
          {a.testing ? t('providersPage.actions.testing') : t('providersPage.actions.test')}
        </Button>
      ) : null}
      {a.onToggle ? (
        <Button
          size="sm"
          onClick={a.onToggle}
          disabled={a.busy}
          aria-label={
            a.disabled
              ? t('providersPage.actions.enableLabel', { name: a.name })
              : t('providersPage.actions.disableLabel', { name: a.name })
          }
          data-testid="providers-toggle"
        >
          {a.disabled ? t('providersPage.actions.enable') : t('providersPage.actions.disable')}
        </Button>
      ) : null}
      {a.onEdit ? (
        <Button
          size="sm"
          onClick={a.onEdit}
          disabled={a.busy}
          aria-label={t('providersPage.actions.editLabel', { name: a.name })}
          data-testid="providers-edit"
        >
          {t('providersPage.actions.edit')}
        </Button>
      ) : null}
      {a.onDelete ? (
        <Button
          size="sm"
          variant="danger"
          onClick={a.onDelete}
          disabled={a.busy}
          aria-label={t('providersPage.actions.deleteLabel', { name: a.name })}
          data-testid="providers-delete"
        >
          {t('providersPage.actions.delete')}
        </Button>
      ) : null}
    </div>
  );
}

function StatusBadge({ disabled }: { disabled: boolean }) {
  const { t } = useTranslation();
  return disabled ? (
    <Badge tone="warn" title={t('providersPage.status.disabledTitle')}>
      {t('providersPage.status.disabled')}
    </Badge>
  ) : (
    <Badge tone="ok">{t('providersPage.status.enabled')}</Badge>
  );
}

function VertexImport() {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const [location, setLocation] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<VertexImportResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);

  const submit = async () => {
    if (!file) {
      setMissing(true);
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await importVertex(api, file, location));
      void queryClient.invalidateQueries({ queryKey: ['cpa', 'auth-files'] });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="prov-vertex" data-testid="providers-vertex-import">
      <h3 className="prov-subtitle">{t('providersPage.vertex.title')}</h3>
      <p className="muted">{t('providersPage.vertex.hint')}</p>
      <div className="prov-form-grid">
        <div className="field">
          <label className="field-label" htmlFor={`${id}-file`}>
            {t('providersPage.vertex.file')}
          </label>
          <input
            id={`${id}-file`}
            type="file"
            accept=".json,application/json"
            className="input prov-file"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setMissing(false);
            }}
            data-testid="providers-vertex-file"
          />
          {missing ? (
            <span className="prov-field-error" role="alert">
              {t('providersPage.vertex.noFile')}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label className="field-label" htmlFor={`${id}-loc`}>
            {t('providersPage.vertex.location')}
          </label>
          <input
            id={`${id}-loc`}
            className="input"
            value={location}
            placeholder="us-central1"
            onChange={(e) => setLocation(e.target.value)}
            aria-describedby={`${id}-loc-hint`}
            data-testid="providers-vertex-location"
          />
          <span id={`${id}-loc-hint`} className="field-hint">
            {t('providersPage.vertex.locationHint')}
          </span>
        </div>
      </div>
      <div>
        <Button variant="primary" size="sm" onClick={() => void submit()} loading={busy} data-testid="providers-vertex-submit">
          {t('providersPage.vertex.submit')}
        </Button>
      </div>
      {result ? (
        <div className="alert alert-info" role="status" data-testid="providers-vertex-result">
          {t('providersPage.vertex.done', {
            project: result.project_id ?? '',
            email: result.email ?? '',
            location: result.location ?? '',
            file: result['auth-file'] ?? '',
          })}
        </div>
      ) : null}
      {error ? <ErrorBox error={error} title={t('providersPage.vertex.failed')} testId="providers-vertex-error" /> : null}
    </div>
  );
}

export function ProvidersPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const api = useApi();
  const queryClient = useQueryClient();
  // The usage period starts 7 days before the page opened (whole minute, so the query key is stable).
  const [from] = useState(() => new Date(Math.floor((Date.now() - 7 * DAY_MS) / 60_000) * 60_000).toISOString());
  const sections = useKeySections();
  const compat = useCompat();
  const usage = useAccountUsage(from, f.timeZone);
  const usageMap = useMemo(() => usageByAuthIndex(usage.data?.rows ?? []), [usage.data]);
  const usageLoaded = usage.data !== undefined;

  const [probes, setProbes] = useState<Record<string, ProbeState>>({});
  const [editor, setEditor] = useState<EditorState | null>(null);
  const [removeTarget, setRemoveTarget] = useState<RemoveState | null>(null);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const [toggling, setToggling] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const refetchLists = async () => {
    // The dashboard's provider counts read the same lists.
    void queryClient.invalidateQueries({ queryKey: ['cpa', 'provider-list'] });
    await queryClient.invalidateQueries({ queryKey: LIST_KEY });
  };

  const probe = async (section: SectionId, authIndex: string, baseUrl: string | undefined) => {
    setProbes((p) => ({ ...p, [authIndex]: { running: true } }));
    try {
      const result = await runProbe(api, probeRequest(section, authIndex, baseUrl));
      setProbes((p) => ({ ...p, [authIndex]: { running: false, result } }));
    } catch (error) {
      setProbes((p) => ({ ...p, [authIndex]: { running: false, error } }));
    }
  };

  const runAction = async (key: string, fn: () => Promise<unknown>, done: string) => {
    setToggling(key);
    setActionError(null);
    setNotice(null);
    try {
      await fn();
      await refetchLists();
      setNotice(done);
    } catch (e) {
      setActionError(e);
    } finally {
      setToggling(null);
    }
  };

  const saveKey = async (section: KeySection, index: number | null, loaded: KeyEntry[], entry: KeyEntry) => {
    if (index === null) {
      await putList(api, section.route, listWithAdded(loaded, stripKeyEntry, entry));
    } else {
      const original = loaded[index];
      if (!original) throw new Error('entry not found');
      await patchKeyEntry(api, section.route, index, patchValue(stripKeyEntry(original), entry));
    }
    setEditor(null);
    setNotice(t('providersPage.notice.saved'));
    await refetchLists();
  };

  const saveCompat = async (name: string | null, loaded: CompatProvider[], provider: CompatProvider) => {
    if (name === null) {
      await putList(api, COMPAT_ROUTE, listWithAdded(loaded, stripCompat, provider));
    } else {
      const original = loaded.find((p) => p.name === name);
      if (!original) throw new Error('provider not found');
      await patchCompat(api, name, patchValue(stripCompat(original), provider));
    }
    setEditor(null);
    setNotice(t('providersPage.notice.saved'));
    await refetchLists();
  };

  const remove = async () => {
    if (!removeTarget) return;
    setRemoving(true);
    setRemoveError(null);
    try {
      if (removeTarget.kind === 'key') await deleteKeyEntry(api, removeTarget.section.route, removeTarget.index);
      else await deleteCompat(api, removeTarget.name);
      setNotice(t('providersPage.notice.deleted', { name: removeTarget.kind === 'key' ? removeTarget.label : removeTarget.name }));
      setRemoveTarget(null);
      await refetchLists();
    } catch (e) {
      if (isApiError(e) && e.isNotFound) {
        setRemoveTarget(null);
        await refetchLists();
      } else {
        setRemoveError(e);
      }
    } finally {
      setRemoving(false);
    }
  };

  const busy = toggling !== null || removing;

  const keySectionCard = (section: KeySection, i: number) => {
    const data = sections[i];
    if (!data) return null;
    const items = data.items;
    const notAvailable = isApiError(data.error) && data.error.isNotFound;
    let body: ReactNode;
    if (data.isPending) body = <SkeletonLines lines={3} />;
    else if (notAvailable) body = <p className="muted">{t('providersPage.notInCpa')}</p>;
    else if (data.error && !items) body = <ErrorBox error={data.error} onRetry={data.refetch} />;
    else if (!items || items.length === 0)
      body = (
        <div className="prov-empty" data-testid="providers-empty">
          <EmptyState title={t('providersPage.empty.title')}>{t('providersPage.empty.body')}</EmptyState>
        </div>
      );
    else
      body = (
        <div className="prov-list">
          {items.map((e, index) => {
            const idx = e['auth-index'] ?? '';
            const disabled = isKeyDisabled(e);
            const mask = maskKey(e['api-key']);
            return (
              <article
                key={`${idx}-${index}`}
                className={disabled ? 'prov-entry prov-entry-disabled' : 'prov-entry'}
                data-testid="providers-entry"
                data-section={section.id}
                data-auth-index={idx}
                data-disabled={disabled ? 'true' : 'false'}
              >
                <div className="prov-entry-head">
                  <div className="row">
                    <span className="mono prov-key" data-testid="providers-entry-key">
                      {mask}
                    </span>
                    <StatusBadge disabled={disabled} />
                    {e.prefix ? <Badge tone="info">{e.prefix}/</Badge> : null}
                  </div>
                  <Actions
                    a={{
                      name: mask,
                      disabled,
                      busy,
                      testing: idx !== '' && probes[idx]?.running,
                      onTest: idx !== '' ? () => void probe(section.id, idx, e['base-url']) : undefined,
                      onToggle:
                        idx !== ''
                          ? () =>
                              void runAction(
                                idx,
                                () => setCredentialDisabled(api, idx, !disabled),
                                t(disabled ? 'providersPage.notice.enabled' : 'providersPage.notice.disabled', { name: mask }),
                              )
                          : undefined,
                      onEdit: () => setEditor({ kind: 'key', section, index }),
                      onDelete: () => {
                        setRemoveError(null);
                        setRemoveTarget({ kind: 'key', section, index, label: mask });
                      },
                    }}
                  />
                </div>
                <Details
                  rows={[
                    {
                      label: t('providersPage.fields.baseUrl'),
                      value: e['base-url'] ? <span className="mono">{e['base-url']}</span> : null,
                    },
                    { label: t('providersPage.fields.prefix'), value: e.prefix ?? null },
                    {
                      label: t('providersPage.fields.proxyUrl'),
                      value: e['proxy-url'] ? <span className="mono">{e['proxy-url']}</span> : null,
                    },
                    { label: t('providersPage.fields.weight'), value: typeof e.weight === 'number' ? f.number(e.weight) : null },
                    { label: t('providersPage.fields.priority'), value: typeof e.priority === 'number' ? f.number(e.priority) : null },
                    { label: t('providersPage.fields.models'), value: modelsText(e.models) },
                    { label: t('providersPage.fields.headers'), value: headersText(e.headers) },
                    {
                      label: t('providersPage.fields.excluded'),
                      value: visibleExcluded(e).length > 0 ? <span className="mono">{visibleExcluded(e).join(', ')}</span> : null,
                    },
                    { label: t('providersPage.fields.authIndex'), value: idx ? <span className="mono">{idx}</span> : null },
                  ]}
                />
                <UsageLine authIndex={idx} usage={usageMap.get(idx)} loaded={usageLoaded} />
                <ProbeLine state={probes[idx]} />
              </article>
            );
          })}
        </div>
      );
    return (
      <Card
        key={section.id}
        title={t(`providersPage.sections.${section.id}`)}
        subtitle={
          <>
            {t(`providersPage.sectionHint.${section.id}`)}
            {items ? <span className="prov-count"> · {t('providersPage.count', { count: items.length })}</span> : null}
          </>
        }
        actions={
          notAvailable ? undefined : (
            <Button
              size="sm"
              variant="primary"
              onClick={() => setEditor({ kind: 'key', section, index: null })}
              disabled={!items}
              data-testid={`providers-add-${section.id}`}
            >
              {t('providersPage.actions.add')}
            </Button>
          )
        }
        data-testid={`providers-section-${section.id}`}
      >
        {data.error && items ? <ErrorBox error={data.error} onRetry={data.refetch} /> : null}
        {body}
        {section.id === 'vertex' ? <VertexImport /> : null}
      </Card>
    );
  };

  const compatItems = compat.data;
  let compatBody: ReactNode;
  if (compat.isPending) compatBody = <SkeletonLines lines={4} />;
  else if (compat.error && !compatItems) compatBody = <ErrorBox error={compat.error} onRetry={() => void compat.refetch()} />;
  else if (!compatItems || compatItems.length === 0)
    compatBody = <EmptyState title={t('providersPage.empty.compatTitle')}>{t('providersPage.empty.compatBody')}</EmptyState>;
  else
    compatBody = (
      <div className="prov-list">
        {compatItems.map((p) => {
          const keys = p['api-key-entries'] ?? [];
          const disabled = p.disabled === true;
          const total = sumUsage(keys.map((k) => usageMap.get(k['auth-index'] ?? '')));
          return (
            <article
              key={p.name}
              className={disabled ? 'prov-entry prov-entry-disabled' : 'prov-entry'}
              data-testid="providers-entry"
              data-section="compat"
              data-name={p.name}
              data-disabled={disabled ? 'true' : 'false'}
            >
              <div className="prov-entry-head">
                <div className="row">
                  <strong className="prov-name">{p.name}</strong>
                  <StatusBadge disabled={disabled} />
                  {p.prefix ? <Badge tone="info">{p.prefix}/</Badge> : null}
                </div>
                <Actions
                  a={{
                    name: p.name,
                    disabled,
                    busy,
                    onToggle: () =>
                      void runAction(
                        `compat:${p.name}`,
                        () => patchCompat(api, p.name, { disabled: !disabled }),
                        t(disabled ? 'providersPage.notice.enabled' : 'providersPage.notice.disabled', { name: p.name }),
                      ),
                    onEdit: () => setEditor({ kind: 'compat', name: p.name }),
                    onDelete: () => {
                      setRemoveError(null);
                      setRemoveTarget({ kind: 'compat', name: p.name });
                    },
                  }}
                />
              </div>
              <Details
                rows={[
                  { label: t('providersPage.fields.baseUrl'), value: <span className="mono">{p['base-url']}</span> },
                  { label: t('providersPage.fields.prefix'), value: p.prefix ?? null },
                  { label: t('providersPage.fields.priority'), value: typeof p.priority === 'number' ? f.number(p.priority) : null },
                  { label: t('providersPage.fields.models'), value: modelsText(p.models) },
                  { label: t('providersPage.fields.headers'), value: headersText(p.headers) },
                ]}
              />
              {keys.length > 1 ? <UsageLine authIndex="" usage={total} loaded={usageLoaded} /> : null}
              <div className="prov-keys">
                {keys.map((k, i) => {
                  const idx = k['auth-index'] ?? '';
                  const kDisabled = isKeyDisabled(k);
                  const mask = maskKey(k['api-key']);
                  return (
                    <div
                      key={`${idx}-${i}`}
                      className="prov-key-block"
                      data-testid="providers-compat-key"
                      data-auth-index={idx}
                      data-disabled={kDisabled ? 'true' : 'false'}
                    >
                      <div className="prov-entry-head">
                        <div className="row">
                          <span className="mono prov-key">{mask}</span>
                          {kDisabled ? <StatusBadge disabled /> : null}
                          {typeof k.weight === 'number' ? (
                            <span className="muted">
                              {t('providersPage.fields.weight')} {f.number(k.weight)}
                            </span>
                          ) : null}
                        </div>
                        <Actions
                          a={{
                            name: `${p.name} ${mask}`,
                            disabled: kDisabled,
                            busy,
                            testing: idx !== '' && probes[idx]?.running,
                            onTest: idx !== '' ? () => void probe('compat', idx, p['base-url']) : undefined,
                            onToggle:
                              idx !== ''
                                ? () =>
                                    void runAction(
                                      idx,
                                      () => setCredentialDisabled(api, idx, !kDisabled),
                                      t(kDisabled ? 'providersPage.notice.enabled' : 'providersPage.notice.disabled', {
                                        name: `${p.name} ${mask}`,
                                      }),
                                    )
                                : undefined,
                          }}
                        />
                      </div>
                      <Details
                        rows={[
                          {
                            label: t('providersPage.fields.proxyUrl'),
                            value: k['proxy-url'] ? <span className="mono">{k['proxy-url']}</span> : null,
                          },
                          { label: t('providersPage.fields.authIndex'), value: idx ? <span className="mono">{idx}</span> : null },
                        ]}
                      />
                      <UsageLine authIndex={idx} usage={usageMap.get(idx)} loaded={usageLoaded} />
                      <ProbeLine state={probes[idx]} />
                    </div>
                  );
                })}
              </div>
            </article>
          );
        })}
      </div>
    );

  let editorNode: ReactNode = null;
  if (editor?.kind === 'key') {
    const i = KEY_SECTIONS.indexOf(editor.section);
    const loaded = sections[i]?.items ?? [];
    const original = editor.index !== null ? (loaded[editor.index] ?? null) : null;
    const others = loaded.filter((_, j) => j !== editor.index);
    editorNode = (
      <KeyEditor
        section={editor.section}
        original={original}
        others={others}
        onSave={(entry) => saveKey(editor.section, editor.index, loaded, entry)}
        onClose={() => setEditor(null)}
      />
    );
  } else if (editor?.kind === 'compat') {
    const loaded = compatItems ?? [];
    const original = editor.name !== null ? (loaded.find((p) => p.name === editor.name) ?? null) : null;
    editorNode = (
      <CompatEditor
        original={original}
        others={loaded.filter((p) => p.name !== editor.name)}
        onSave={(p) => saveCompat(editor.name, loaded, p)}
        onClose={() => setEditor(null)}
      />
    );
  }

  const refreshing = sections.some((s) => s.isFetching) || compat.isFetching || usage.isFetching;

  return (
    <div className="page stack providers-page" data-testid="providers-page" data-usage-from={from}>
      <PageHeader
        title={t('providersPage.title')}
        description={t('providersPage.description')}
        actions={
          <Button
            icon="refresh"
            loading={refreshing}
            onClick={() => {
              void refetchLists();
              void usage.refetch();
            }}
            data-testid="providers-refresh"
          >
            {t('common.refresh')}
          </Button>
        }
      />
      <p className="muted prov-period">{t('providersPage.usagePeriod')}</p>
      {usage.error ? (
        <div className="alert alert-warn" role="status" data-testid="providers-usage-error">
          {t('providersPage.usageUnavailable')}
        </div>
      ) : null}
      {notice ? (
        <div className="alert alert-info row" role="status" data-testid="providers-notice">
          <span className="spacer">{notice}</span>
          <Button size="sm" variant="ghost" icon="close" onClick={() => setNotice(null)} aria-label={t('providersPage.dismiss')} />
        </div>
      ) : null}
      {actionError ? <ErrorBox error={actionError} title={t('providersPage.actionFailed')} testId="providers-action-error" /> : null}

      <Card
        title={t('providersPage.sections.compat')}
        subtitle={
          <>
            {t('providersPage.sectionHint.compat')}
            {compatItems ? <span className="prov-count"> · {t('providersPage.count', { count: compatItems.length })}</span> : null}
          </>
        }
        actions={
          <Button
            size="sm"
            variant="primary"
            onClick={() => setEditor({ kind: 'compat', name: null })}
            disabled={!compatItems}
            data-testid="providers-add-compat"
          >
            {t('providersPage.actions.addProvider')}
          </Button>
        }
        data-testid="providers-section-compat"
      >
        {compat.error && compatItems ? <ErrorBox error={compat.error} onRetry={() => void compat.refetch()} /> : null}
        {compatBody}
      </Card>

      {KEY_SECTIONS.map((s, i) => keySectionCard(s, i))}

      {editorNode}

      <ConfirmDialog
        open={removeTarget !== null}
        title={removeTarget?.kind === 'compat' ? t('providersPage.remove.compatTitle') : t('providersPage.remove.title')}
        confirmLabel={t('providersPage.remove.confirm')}
        tone="danger"
        busy={removing}
        onConfirm={() => void remove()}
        onClose={() => setRemoveTarget(null)}
        confirmTestId="providers-delete-confirm"
      >
        <p>
          {t('providersPage.remove.body', {
            name: removeTarget
              ? removeTarget.kind === 'key'
                ? `${removeTarget.section.label} ${removeTarget.label}`
                : removeTarget.name
              : '',
          })}
        </p>
        {removeError ? <ErrorBox error={removeError} title={t('providersPage.remove.failed')} /> : null}
      </ConfirmDialog>
    </div>
  );
}
