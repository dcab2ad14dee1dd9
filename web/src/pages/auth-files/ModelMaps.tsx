// The OAuth model maps in config.yaml: oauth-excluded-models (provider →
// model patterns hidden from that provider's OAuth accounts) and
// oauth-model-alias (channel → model renames, optionally kept as a fork).
import { useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { SkeletonLines } from '../../components/Skeleton';
import { ALIAS_KEY, deleteAlias, deleteExcluded, EXCLUDED_KEY, patchAlias, patchExcluded, useExcludedModels, useModelAlias } from './api';
import { LabelledInput } from './LabelledInput';
import {
  aliasEntries,
  cleanAliases,
  excludedEntries,
  normalizeKey,
  parsePatterns,
  without,
  type AliasProblem,
  type AliasRow,
} from './logic';

/** Provider and channel names CPA knows, offered as suggestions. */
const KNOWN = ['claude', 'codex', 'gemini', 'gemini-cli', 'vertex', 'aistudio', 'antigravity', 'kimi', 'xai', 'qwen', 'iflow'];

export function ModelMaps() {
  const { t } = useTranslation();
  const [tab, setTab] = useState<'excluded' | 'alias'>('excluded');
  const id = useId();
  return (
    <Card title={t('authFilesPage.maps.title')} subtitle={t('authFilesPage.maps.subtitle')} data-testid="authfiles-maps">
      <div className="af-tabs" role="tablist" aria-label={t('authFilesPage.maps.title')}>
        <Tab
          id={`${id}-tab-ex`}
          panel={`${id}-panel`}
          active={tab === 'excluded'}
          onSelect={() => setTab('excluded')}
          testId="authfiles-tab-excluded"
        >
          {t('authFilesPage.maps.excludedTab')}
        </Tab>
        <Tab
          id={`${id}-tab-al`}
          panel={`${id}-panel`}
          active={tab === 'alias'}
          onSelect={() => setTab('alias')}
          testId="authfiles-tab-alias"
        >
          {t('authFilesPage.maps.aliasTab')}
        </Tab>
      </div>
      <div
        role="tabpanel"
        id={`${id}-panel`}
        aria-labelledby={tab === 'excluded' ? `${id}-tab-ex` : `${id}-tab-al`}
        className="af-tabpanel"
      >
        {tab === 'excluded' ? <ExcludedEditor /> : <AliasEditor />}
      </div>
      <datalist id="af-known-providers">
        {KNOWN.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
    </Card>
  );
}

/** One tab of the maps card's tab list. */
function Tab({
  id,
  panel,
  active,
  onSelect,
  testId,
  children,
}: {
  id: string;
  panel: string;
  active: boolean;
  onSelect: () => void;
  testId: string;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      role="tab"
      id={id}
      aria-selected={active}
      aria-controls={panel}
      className={active ? 'af-tab af-tab-active' : 'af-tab'}
      onClick={onSelect}
      data-testid={testId}
    >
      {children}
    </button>
  );
}

/**
 * The busy flag and last error of a map's writes; run does one write, then
 * refreshes the map's query, and tells whether it succeeded.
 */
function useMapWrite(queryKey: readonly unknown[]) {
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (fn: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await qc.invalidateQueries({ queryKey });
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function ExcludedEditor() {
  const { t } = useTranslation();
  const api = useApi();
  const id = useId();
  const q = useExcludedModels();
  const entries = useMemo(() => excludedEntries(q.data), [q.data]);
  const [provider, setProvider] = useState('');
  const [patterns, setPatterns] = useState('');
  const [problem, setProblem] = useState<'provider' | 'patterns' | null>(null);
  const { busy, error, run } = useMapWrite(EXCLUDED_KEY);
  const [removeProvider, setRemoveProvider] = useState<string | null>(null);

  const add = async () => {
    const p = normalizeKey(provider);
    const list = parsePatterns(patterns);
    if (p === '' || list.length === 0) {
      setProblem(p === '' ? 'provider' : 'patterns');
      return;
    }
    setProblem(null);
    const existing = entries.find((e) => e.provider === p)?.models ?? [];
    const merged = [...existing, ...list.filter((m) => !existing.includes(m))];
    if (await run(() => patchExcluded(api, p, merged))) {
      setPatterns('');
    }
  };

  const removePattern = (p: string, models: string[], pattern: string) => {
    const rest = models.filter((m) => m !== pattern);
    void run(() => (rest.length === 0 ? deleteExcluded(api, p) : patchExcluded(api, p, rest)));
  };

  return (
    <div className="stack">
      <p className="muted">{t('authFilesPage.excluded.hint')}</p>
      {q.data === undefined ? (
        <MapLoading query={q} />
      ) : entries.length === 0 ? (
        <EmptyState title={t('authFilesPage.excluded.empty')} />
      ) : (
        <ul className="af-maplist">
          {entries.map((e) => (
            <li key={e.provider} className="af-maprow" data-testid="authfiles-excluded-row" data-provider={e.provider}>
              <div className="af-maprow-head">
                <strong>{e.provider}</strong>
                <Button
                  size="sm"
                  variant="danger"
                  disabled={busy}
                  onClick={() => setRemoveProvider(e.provider)}
                  data-testid="authfiles-excluded-delete"
                  aria-label={t('authFilesPage.excluded.deleteLabel', { provider: e.provider })}
                >
                  {t('authFilesPage.excluded.delete')}
                </Button>
              </div>
              <ul className="af-chips">
                {e.models.map((m) => (
                  <li key={m} className="af-chip" data-testid="authfiles-excluded-pattern" data-pattern={m}>
                    <span className="mono">{m}</span>
                    <button
                      type="button"
                      className="af-chip-x"
                      disabled={busy}
                      onClick={() => removePattern(e.provider, e.models, m)}
                      aria-label={t('authFilesPage.excluded.removePattern', { pattern: m, provider: e.provider })}
                      data-testid="authfiles-excluded-remove"
                    >
                      ×
                    </button>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}

      <form
        className="af-map-form"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <LabelledInput
          id={`${id}-prov`}
          label={t('authFilesPage.excluded.provider')}
          list="af-known-providers"
          value={provider}
          onChange={(e) => {
            setProvider(e.target.value);
            setProblem(null);
          }}
          aria-invalid={problem === 'provider' ? true : undefined}
          data-testid="authfiles-excluded-provider"
        />
        <LabelledInput
          id={`${id}-pat`}
          label={t('authFilesPage.excluded.patterns')}
          fieldClassName="field af-grow"
          className="input mono"
          value={patterns}
          placeholder="gpt-5-*, *-preview"
          onChange={(e) => {
            setPatterns(e.target.value);
            setProblem(null);
          }}
          aria-invalid={problem === 'patterns' ? true : undefined}
          data-testid="authfiles-excluded-patterns"
        />
        <Button type="submit" variant="primary" loading={busy} data-testid="authfiles-excluded-add">
          {t('authFilesPage.excluded.add')}
        </Button>
      </form>
      {problem ? (
        <span className="af-error" role="alert">
          {problem === 'provider' ? t('authFilesPage.excluded.needProvider') : t('authFilesPage.excluded.needPatterns')}
        </span>
      ) : null}
      {error ? <ErrorBox error={error} title={t('authFilesPage.maps.saveFailed')} testId="authfiles-excluded-error" /> : null}

      <ConfirmDialog
        open={removeProvider !== null}
        title={t('authFilesPage.excluded.deleteTitle', { provider: removeProvider ?? '' })}
        confirmLabel={t('authFilesPage.excluded.delete')}
        tone="danger"
        busy={busy}
        onConfirm={() => {
          const p = removeProvider;
          if (p !== null) void run(() => deleteExcluded(api, p)).then(() => setRemoveProvider(null));
        }}
        onClose={() => setRemoveProvider(null)}
        confirmTestId="authfiles-excluded-delete-confirm"
      >
        <p>{t('authFilesPage.excluded.deleteBody')}</p>
      </ConfirmDialog>
    </div>
  );
}

function AliasEditor() {
  const { t } = useTranslation();
  const api = useApi();
  const id = useId();
  const q = useModelAlias();
  const entries = useMemo(() => aliasEntries(q.data), [q.data]);
  /** Unsaved rows by channel. */
  const [drafts, setDrafts] = useState<Record<string, AliasRow[]>>({});
  const [newChannel, setNewChannel] = useState('');
  const [problems, setProblems] = useState<Record<string, AliasProblem>>({});
  const { busy, error, run } = useMapWrite(ALIAS_KEY);

  const channels = useMemo(() => {
    const saved = entries.map((e) => e.channel);
    return [
      ...saved,
      ...Object.keys(drafts)
        .filter((c) => !saved.includes(c))
        .sort(),
    ];
  }, [entries, drafts]);

  const rowsOf = (channel: string): AliasRow[] => drafts[channel] ?? entries.find((e) => e.channel === channel)?.aliases ?? [];
  const setRows = (channel: string, rows: AliasRow[]) => {
    setDrafts({ ...drafts, [channel]: rows });
    setProblems(without(problems, channel));
  };
  const dropDraft = (channel: string) => {
    setDrafts(without(drafts, channel));
  };

  const save = async (channel: string) => {
    const r = cleanAliases(rowsOf(channel));
    if (!r.ok) {
      setProblems({ ...problems, [channel]: r.problem });
      return;
    }
    if (await run(() => patchAlias(api, channel, r.aliases))) dropDraft(channel);
  };

  const remove = async (channel: string) => {
    if (!entries.some((e) => e.channel === channel)) {
      dropDraft(channel);
      return;
    }
    if (await run(() => deleteAlias(api, channel))) dropDraft(channel);
  };

  return (
    <div className="stack">
      <p className="muted">{t('authFilesPage.alias.hint')}</p>
      {q.data === undefined ? (
        <MapLoading query={q} />
      ) : channels.length === 0 ? (
        <EmptyState title={t('authFilesPage.alias.empty')} />
      ) : (
        channels.map((channel) => {
          const rows = rowsOf(channel);
          const dirty = drafts[channel] !== undefined;
          const problem = problems[channel];
          const patch = (i: number, p: Partial<AliasRow>) =>
            setRows(
              channel,
              rows.map((x, j) => (j === i ? { ...x, ...p } : x)),
            );
          return (
            <section key={channel} className="af-maprow" data-testid="authfiles-alias-channel" data-channel={channel}>
              <div className="af-maprow-head">
                <strong>{channel}</strong>
                {dirty ? <span className="muted">{t('authFilesPage.alias.unsaved')}</span> : null}
                <span className="spacer" />
                <Button
                  size="sm"
                  variant="primary"
                  disabled={!dirty || busy}
                  onClick={() => void save(channel)}
                  data-testid="authfiles-alias-save"
                >
                  {t('authFilesPage.alias.save')}
                </Button>
                <Button
                  size="sm"
                  variant="danger"
                  disabled={busy}
                  onClick={() => void remove(channel)}
                  data-testid="authfiles-alias-delete"
                >
                  {t('authFilesPage.alias.deleteChannel')}
                </Button>
              </div>
              <div className="stack af-alias-rows">
                {rows.map((r, i) => (
                  <div key={i} className="af-alias-row" data-testid="authfiles-alias-row">
                    <input
                      className="input mono"
                      value={r.name}
                      placeholder={t('authFilesPage.alias.model')}
                      aria-label={t('authFilesPage.alias.modelLabel', { n: i + 1, channel })}
                      onChange={(e) => patch(i, { name: e.target.value })}
                      data-testid="authfiles-alias-name"
                    />
                    <span aria-hidden="true">→</span>
                    <input
                      className="input mono"
                      value={r.alias}
                      placeholder={t('authFilesPage.alias.alias')}
                      aria-label={t('authFilesPage.alias.aliasLabel', { n: i + 1, channel })}
                      onChange={(e) => patch(i, { alias: e.target.value })}
                      data-testid="authfiles-alias-alias"
                    />
                    <label className="row af-nowrap">
                      <input
                        type="checkbox"
                        checked={r.fork}
                        onChange={(e) => patch(i, { fork: e.target.checked })}
                        data-testid="authfiles-alias-fork"
                      />
                      {t('authFilesPage.alias.fork')}
                    </label>
                    <Button
                      size="sm"
                      variant="ghost"
                      icon="close"
                      aria-label={t('authFilesPage.alias.removeRow', { n: i + 1 })}
                      onClick={() =>
                        setRows(
                          channel,
                          rows.filter((_, j) => j !== i),
                        )
                      }
                    />
                  </div>
                ))}
                <div>
                  <Button
                    size="sm"
                    onClick={() => setRows(channel, [...rows, { name: '', alias: '', fork: false }])}
                    data-testid="authfiles-alias-add-row"
                  >
                    {t('authFilesPage.alias.addRow')}
                  </Button>
                </div>
                {problem ? (
                  <span className="af-error" role="alert">
                    {t(`authFilesPage.alias.problem.${problem}`)}
                  </span>
                ) : null}
              </div>
            </section>
          );
        })
      )}
      <form
        className="af-map-form"
        onSubmit={(e) => {
          e.preventDefault();
          const c = normalizeKey(newChannel);
          if (c === '' || channels.includes(c)) return;
          setDrafts({ ...drafts, [c]: [{ name: '', alias: '', fork: false }] });
          setNewChannel('');
        }}
      >
        <LabelledInput
          id={`${id}-ch`}
          label={t('authFilesPage.alias.channel')}
          list="af-known-providers"
          value={newChannel}
          onChange={(e) => setNewChannel(e.target.value)}
          data-testid="authfiles-alias-new-channel"
        />
        <Button type="submit" data-testid="authfiles-alias-add-channel">
          {t('authFilesPage.alias.addChannel')}
        </Button>
      </form>
      {error ? <ErrorBox error={error} title={t('authFilesPage.maps.saveFailed')} /> : null}
    </div>
  );
}

/** A map's query before its first answer: a skeleton, or the error with a retry. */
function MapLoading({ query }: { query: { error: unknown; refetch: () => unknown } }) {
  return query.error ? <ErrorBox error={query.error} onRetry={() => void query.refetch()} /> : <SkeletonLines lines={3} />;
}
