// Model pricing: the effective price of every model (built in, manual or
// synced from a catalogue), editing and deleting stored prices, the models
// in use that lack one, syncing from the public catalogues and re-pricing
// stored requests.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useBreakdown } from '../../api/queries';
import { useFormat } from '../../app/format';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { PageHeader } from '../../components/PageHeader';
import { SkeletonLines } from '../../components/Skeleton';
import { addDays, presetRange, rangeParams, zonedDate } from '../../lib/time';
import { deletePath, deletePrice, putPrices, PRICES_KEY, recomputeCosts, syncPrices, usePrices, type SyncOutcome } from './api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { formatPerMillion } from './format';
import {
  buildPutBody,
  filterPrices,
  findUnpriced,
  requestsByPricedName,
  formatDate,
  formFromPrice,
  KNOWN_SOURCES,
  MANUAL,
  readPriceForm,
  recomputeRange,
  sourceKey,
  syncModelsFor,
  toPriceInput,
  type PriceFormField,
} from './logic';
import { PriceTable, type EditState } from './PriceTable';
import { RecomputeDialog, RecomputeResultCard } from './Recompute';
import { SyncResultCard } from './SyncResultCard';
import type { PricesDocument, RecomputeResult, SyncMatch } from './types';
import { UnpricedCard } from './UnpricedCard';
import './pricing.css';

type Notice = { kind: 'saved' | 'deleted' | 'applied'; model: string } | null;

export function PricingPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const api = useApi();
  const queryClient = useQueryClient();
  const prices = usePrices();
  const usage = useBreakdown(['pricing-30d', f.timeZone], 'model', { top: 0 }, () =>
    rangeParams(presetRange('30d', Date.now(), f.timeZone), f.timeZone),
  );
  const id = useId();

  const [search, setSearch] = useState('');
  const [source, setSource] = useState('');
  const [edit, setEdit] = useState<EditState | null>(null);
  const [notice, setNotice] = useState<Notice>(null);

  const [deleteTarget, setDeleteTarget] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);

  const [syncOpen, setSyncOpen] = useState(false);
  const [syncScope, setSyncScope] = useState<'all' | 'unpriced'>('all');
  const [syncing, setSyncing] = useState(false);
  const [syncError, setSyncError] = useState<unknown>(null);
  const [syncOutcome, setSyncOutcome] = useState<SyncOutcome | null>(null);
  const [lastSyncModels, setLastSyncModels] = useState<string[] | undefined>(undefined);

  const [candidate, setCandidate] = useState<{ model: string; match: SyncMatch } | null>(null);
  const [applying, setApplying] = useState(false);
  const [applyError, setApplyError] = useState<unknown>(null);

  const [recomputeOpen, setRecomputeOpen] = useState(false);
  const [recomputeFrom, setRecomputeFrom] = useState('');
  const [recomputeTo, setRecomputeTo] = useState('');
  const [recomputing, setRecomputing] = useState(false);
  const [recomputeError, setRecomputeError] = useState<unknown>(null);
  const [recomputeResult, setRecomputeResult] = useState<RecomputeResult | null>(null);

  const doc = prices.data?.prices;
  const unpriced = useMemo(() => (usage.data ? findUnpriced(usage.data.rows) : undefined), [usage.data]);
  const unpricedNames = useMemo(() => (unpriced ? syncModelsFor(unpriced) : []), [unpriced]);

  // Requests of the last 30 days by the listed name whose price they get
  // (the server names it per model: priced_as).
  const requests = useMemo(() => (usage.data ? requestsByPricedName(usage.data.rows) : new Map<string, number>()), [usage.data]);

  const rows = useMemo(() => {
    if (!doc) return [];
    const list = filterPrices(doc, search, source);
    // The row being edited stays visible whatever the filter.
    if (edit && !edit.isNew && !list.some((r) => r.model === edit.model)) {
      const entry = doc[edit.model];
      if (entry) list.unshift({ model: edit.model, entry });
    }
    return list;
  }, [doc, search, source, edit]);

  const sourceOptions = useMemo(() => {
    const set = new Set<string>(KNOWN_SOURCES);
    if (doc) for (const e of Object.values(doc)) set.add(e.source);
    return [...set];
  }, [doc]);

  const busy = syncing || recomputing || applying || deleting || (edit?.saving ?? false);

  const sourceLabel = (s: string) => {
    const key = sourceKey(s);
    return key ? t(`pricingPage.source.${key}`) : s;
  };

  /**
   * Keeps a price document the server answered with, and has the model
   * breakdown read again: which price applies to each model (priced_as)
   * follows the book.
   */
  const storePrices = (saved: PricesDocument) => {
    queryClient.setQueryData(PRICES_KEY, saved);
    void queryClient.invalidateQueries({ queryKey: ['usage', 'breakdown', 'model'] });
  };

  /** The newest price document, so a PUT starts from what is stored now. */
  const freshPrices = async (): Promise<PricesDocument> => {
    return queryClient.query({
      queryKey: PRICES_KEY,
      queryFn: ({ signal }) => api.usage<PricesDocument>('/v0/management/model-prices', { signal }),
      staleTime: 0,
    });
  };

  const startEdit = (model: string) => {
    if (!doc) return;
    setNotice(null);
    setEdit({ model, isNew: false, form: formFromPrice(model, doc[model] ?? null), errors: {}, saving: false, error: null, refused: 0 });
  };
  const startAdd = (model = '') => {
    setNotice(null);
    setEdit({ model: '', isNew: true, form: formFromPrice(model, null), errors: {}, saving: false, error: null, refused: 0 });
  };
  const changeField = (field: PriceFormField, value: string) => {
    setEdit((e) => (e ? { ...e, form: { ...e.form, [field]: value }, errors: { ...e.errors, [field]: undefined } } : e));
  };

  const save = async () => {
    if (!edit || !doc) return;
    const entry = edit.isNew ? undefined : doc[edit.model];
    const read = readPriceForm(edit.isNew ? edit.form : { ...edit.form, model: edit.model }, {
      isNew: edit.isNew,
      existing: doc,
      keepTiers: entry?.tiers,
    });
    if (!read.ok) {
      setEdit({ ...edit, errors: read.errors, refused: edit.refused + 1 });
      return;
    }
    setEdit({ ...edit, errors: {}, saving: true, error: null });
    try {
      const fresh = await freshPrices();
      if (edit.isNew && Object.prototype.hasOwnProperty.call(fresh.prices, read.model)) {
        setEdit({ ...edit, errors: { model: 'exists' }, saving: false, error: null, refused: edit.refused + 1 });
        return;
      }
      const saved = await putPrices(api, buildPutBody(fresh.prices, { [read.model]: read.price }));
      storePrices(saved);
      setEdit(null);
      setNotice({ kind: 'saved', model: read.model });
    } catch (e) {
      setEdit({ ...edit, errors: {}, saving: false, error: e });
    }
  };

  const confirmDelete = async () => {
    if (deleteTarget === null) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      const path = deletePath(deleteTarget);
      let saved: PricesDocument;
      if (path !== null) {
        saved = await deletePrice(api, path);
      } else {
        // A name a URL cannot carry: a manual price goes by leaving it out of the manual set.
        const fresh = await freshPrices();
        if (fresh.prices[deleteTarget]?.source !== MANUAL) throw new Error(t('pricingPage.delete.unsupported'));
        saved = await putPrices(api, buildPutBody(fresh.prices, {}, [deleteTarget]));
      }
      storePrices(saved);
      setNotice({ kind: 'deleted', model: deleteTarget });
      setDeleteTarget(null);
    } catch (e) {
      setDeleteError(e);
    } finally {
      setDeleting(false);
    }
  };

  const runSync = async (models: string[] | undefined) => {
    setSyncing(true);
    setSyncError(null);
    setLastSyncModels(models);
    try {
      const outcome = await syncPrices(api, models && models.length > 0 ? { models } : {});
      setSyncOutcome(outcome);
      if (outcome.ok) storePrices(outcome.result.prices);
      setSyncOpen(false);
    } catch (e) {
      setSyncError(e);
    } finally {
      setSyncing(false);
    }
  };

  const applyCandidate = async () => {
    if (!candidate) return;
    setApplying(true);
    setApplyError(null);
    try {
      const fresh = await freshPrices();
      const saved = await putPrices(api, buildPutBody(fresh.prices, { [candidate.model]: toPriceInput(candidate.match.price) }));
      storePrices(saved);
      setNotice({ kind: 'applied', model: candidate.model });
      setCandidate(null);
    } catch (e) {
      setApplyError(e);
    } finally {
      setApplying(false);
    }
  };

  const openRecompute = () => {
    const today = zonedDate(Date.now(), f.timeZone);
    setRecomputeFrom(formatDate(addDays(today, -29)));
    setRecomputeTo(formatDate(today));
    setRecomputeError(null);
    setRecomputeOpen(true);
  };
  const runRecompute = async () => {
    const range = recomputeRange(recomputeFrom, recomputeTo, f.timeZone);
    if (!range.ok) return;
    setRecomputing(true);
    setRecomputeError(null);
    try {
      const result = await recomputeCosts(api, { from: range.from, to: range.to });
      setRecomputeResult(result);
      setRecomputeOpen(false);
      // Stored costs changed: every usage view is out of date.
      void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'usage' && q.queryKey[1] !== 'model-prices' });
    } catch (e) {
      setRecomputeError(e);
    } finally {
      setRecomputing(false);
    }
  };

  const filters = (
    <div className="pricing-filters">
      <label className="field" htmlFor={`${id}-search`}>
        <span className="field-label">{t('pricingPage.filter.search')}</span>
        <input
          id={`${id}-search`}
          className="input"
          type="search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          placeholder={t('pricingPage.filter.searchPlaceholder')}
          data-testid="pricing-search"
        />
      </label>
      <label className="field" htmlFor={`${id}-source`}>
        <span className="field-label">{t('pricingPage.filter.source')}</span>
        <select
          id={`${id}-source`}
          className="select"
          value={source}
          onChange={(e) => setSource(e.target.value)}
          data-testid="pricing-source-filter"
        >
          <option value="">{t('pricingPage.filter.allSources')}</option>
          {sourceOptions.map((s) => (
            <option key={s} value={s}>
              {sourceLabel(s)}
            </option>
          ))}
        </select>
      </label>
      <span className="muted pricing-count" aria-live="polite">
        {doc ? t('pricingPage.filter.count', { shown: f.number(rows.length), total: f.number(Object.keys(doc).length) }) : null}
      </span>
    </div>
  );

  const deleteEntry = deleteTarget !== null ? doc?.[deleteTarget] : undefined;

  return (
    <div className="page pricing-page" data-testid="pricing-page">
      <PageHeader
        title={t('pricingPage.title')}
        description={t('pricingPage.description')}
        actions={
          <>
            <Button
              icon="refresh"
              onClick={() => {
                setSyncScope('all');
                setSyncError(null);
                setSyncOpen(true);
              }}
              disabled={busy || !doc}
              data-testid="pricing-sync"
            >
              {t('pricingPage.sync.button')}
            </Button>
            <Button onClick={openRecompute} disabled={busy} data-testid="pricing-recompute">
              {t('pricingPage.recompute.button')}
            </Button>
            <Button variant="primary" onClick={() => startAdd()} disabled={busy || !doc || edit !== null} data-testid="pricing-add">
              {t('pricingPage.add')}
            </Button>
          </>
        }
      />

      {notice ? (
        <div className="alert alert-info" role="status" data-testid="pricing-notice">
          <Icon name="check" />
          <div className="error-box-body">
            <div>{t(`pricingPage.notice.${notice.kind}`, { model: notice.model })}</div>
            <div className="muted">
              {notice.kind === 'deleted' ? t('pricingPage.notice.recomputeHintDeleted') : t('pricingPage.notice.recomputeHint')}
            </div>
          </div>
          <Button size="sm" onClick={openRecompute} disabled={busy}>
            {t('pricingPage.recompute.button')}
          </Button>
          <Button size="sm" variant="ghost" icon="close" onClick={() => setNotice(null)} aria-label={t('pricingPage.sync.dismiss')} />
        </div>
      ) : null}

      {syncOutcome ? (
        <SyncResultCard
          outcome={syncOutcome}
          prices={doc ?? {}}
          onChoose={(model, match) => {
            setApplyError(null);
            setCandidate({ model, match });
          }}
          onDismiss={() => setSyncOutcome(null)}
          onRetry={() => void runSync(lastSyncModels)}
          busy={busy}
        />
      ) : null}

      {recomputeResult ? <RecomputeResultCard result={recomputeResult} onDismiss={() => setRecomputeResult(null)} /> : null}

      <UnpricedCard
        models={unpriced}
        error={usage.error ?? prices.error}
        onRetry={() => {
          void usage.refetch();
          void prices.refetch();
        }}
        onAdd={(model) => startAdd(model)}
        onEdit={startEdit}
        onRecompute={openRecompute}
        onSyncThese={() => {
          setSyncScope('unpriced');
          setSyncError(null);
          setSyncOpen(true);
        }}
        busy={busy || edit !== null}
      />

      <Card title={t('pricingPage.table.title')} subtitle={t('pricingPage.table.subtitle')}>
        {doc ? (
          <PriceTable
            rows={rows}
            totalCount={Object.keys(doc).length}
            requests={requests}
            edit={edit}
            prices={doc}
            onEdit={startEdit}
            onDelete={(model) => {
              setDeleteError(null);
              setDeleteTarget(model);
            }}
            onChange={changeField}
            onSave={() => void save()}
            onCancel={() => setEdit(null)}
            filters={filters}
          />
        ) : prices.error ? (
          <ErrorBox error={prices.error} onRetry={() => void prices.refetch()} />
        ) : (
          <SkeletonLines lines={8} />
        )}
      </Card>

      <ConfirmDialog
        open={deleteTarget !== null}
        title={t('pricingPage.delete.title')}
        confirmLabel={t('pricingPage.delete.confirm')}
        tone="danger"
        busy={deleting}
        onConfirm={() => void confirmDelete()}
        onClose={() => setDeleteTarget(null)}
        confirmTestId="pricing-delete-confirm"
      >
        <p>{t('pricingPage.delete.body', { model: deleteTarget ?? '', source: deleteEntry?.source ?? '' })}</p>
        <p className="muted">{t('pricingPage.delete.after')}</p>
        {deleteError ? <ErrorBox error={deleteError} title={t('pricingPage.delete.failed')} /> : null}
      </ConfirmDialog>

      <ConfirmDialog
        open={syncOpen}
        title={t('pricingPage.sync.title')}
        confirmLabel={t('pricingPage.sync.confirm')}
        busy={syncing}
        onConfirm={() => void runSync(syncScope === 'unpriced' ? unpricedNames : undefined)}
        onClose={() => setSyncOpen(false)}
        confirmTestId="pricing-sync-confirm"
        testId="pricing-sync-dialog"
      >
        <p>{t('pricingPage.sync.explain')}</p>
        <fieldset className="pricing-scope">
          <legend className="field-label">{t('pricingPage.sync.scope')}</legend>
          <label className="row">
            <input
              type="radio"
              name={`${id}-scope`}
              checked={syncScope === 'all'}
              onChange={() => setSyncScope('all')}
              disabled={syncing}
            />
            <span>{t('pricingPage.sync.scopeAll')}</span>
          </label>
          <label className="row">
            <input
              type="radio"
              name={`${id}-scope`}
              checked={syncScope === 'unpriced'}
              onChange={() => setSyncScope('unpriced')}
              disabled={syncing || unpricedNames.length === 0}
              data-testid="pricing-sync-scope-unpriced"
            />
            <span>{t('pricingPage.sync.scopeUnpriced', { count: unpricedNames.length })}</span>
          </label>
        </fieldset>
        {syncing ? <p className="muted">{t('pricingPage.sync.running')}</p> : null}
        {syncError ? <ErrorBox error={syncError} title={t('pricingPage.sync.failedTitle')} /> : null}
      </ConfirmDialog>

      <ConfirmDialog
        open={candidate !== null}
        title={t('pricingPage.sync.applyTitle')}
        confirmLabel={t('pricingPage.sync.applyConfirm')}
        busy={applying}
        onConfirm={() => void applyCandidate()}
        onClose={() => setCandidate(null)}
        confirmTestId="pricing-candidate-confirm"
      >
        {candidate ? (
          <>
            <p>
              {t('pricingPage.sync.applyBody', {
                model: candidate.model,
                source: candidate.match.source,
                entry: candidate.match.sourceModelId,
              })}
            </p>
            <p className="num">
              {t('pricingPage.sync.priceLine', {
                input: formatPerMillion(candidate.match.price.input, f.locale),
                output: formatPerMillion(candidate.match.price.output, f.locale),
                cacheRead: candidate.match.price.cacheRead ? formatPerMillion(candidate.match.price.cacheRead, f.locale) : '—',
                cacheWrite: candidate.match.price.cacheWrite ? formatPerMillion(candidate.match.price.cacheWrite, f.locale) : '—',
              })}
            </p>
            <p className="muted">{t('pricingPage.sync.applyAfter')}</p>
          </>
        ) : null}
        {applyError ? <ErrorBox error={applyError} title={t('pricingPage.form.saveFailed')} /> : null}
      </ConfirmDialog>

      <RecomputeDialog
        open={recomputeOpen}
        from={recomputeFrom}
        to={recomputeTo}
        onFrom={setRecomputeFrom}
        onTo={setRecomputeTo}
        busy={recomputing}
        error={recomputeError}
        onConfirm={() => void runRecompute()}
        onClose={() => setRecomputeOpen(false)}
      />
    </div>
  );
}
