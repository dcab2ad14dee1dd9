// API key aliases: names for the client keys CPA accepts, shown in the
// usage data instead of key masks. CPA's keys are never shown in full (only
// a mask computed here) and reach the server only when the user saves a
// name for one; the server hashes it and keeps the hash.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { isApiError } from '../../api/errors';
import { useBreakdown, useCpaApiKeys } from '../../api/queries';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { PageHeader } from '../../components/PageHeader';
import { SkeletonLines } from '../../components/Skeleton';
import { presetRange, rangeParams } from '../../lib/time';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ALIASES_KEY, deleteAlias, putAliases, useAliases, useKnownKeyMasks } from './api';
import { aliasPutItem, buildKeyModel, hashForAlias, validateAlias, type KeyRow } from './logic';
import './apikeys.css';

interface EditState {
  rowId: string;
  value: string;
  error: string | null;
  serverError: unknown;
  saving: boolean;
}

function shortHash(hash: string): string {
  return hash.slice(0, 8) + '…';
}

export function ApiKeysPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const api = useApi();
  const queryClient = useQueryClient();
  const cpa = useCpaApiKeys();
  const aliases = useAliases();
  const usage = useBreakdown(['api-keys-30d', f.timeZone], 'api_key', { top: 0 }, () =>
    rangeParams(presetRange('30d', Date.now(), f.timeZone), f.timeZone),
  );
  const masks = useKnownKeyMasks(f.timeZone);
  const id = useId();

  // Hashes the server answered for CPA keys named here, by key. Memory only:
  // never stored, never logged.
  const [learned, setLearned] = useState<ReadonlyMap<string, string>>(() => new Map());
  const [edit, setEdit] = useState<EditState | null>(null);
  const [removeTarget, setRemoveTarget] = useState<KeyRow | null>(null);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>(null);
  /** Opens the removal confirmation for a row. */
  const askRemove = (row: KeyRow) => {
    setRemoveError(null);
    setRemoveTarget(row);
  };
  const [notice, setNotice] = useState<string | null>(null);

  const cpaKeys = cpa.data?.['api-keys'] ?? null;
  const model = useMemo(() => {
    if (!aliases.data || !usage.data) return null;
    return buildKeyModel({
      cpaKeys,
      aliases: aliases.data.items,
      usage: usage.data.rows,
      knownMasks: masks.data?.apiKeys ?? [],
      learned,
    });
  }, [cpaKeys, aliases.data, usage.data, masks.data, learned]);

  const busy = removing || (edit?.saving ?? false);

  const startEdit = (row: KeyRow) => {
    setNotice(null);
    setEdit({ rowId: row.id, value: row.alias ?? '', error: null, serverError: null, saving: false });
  };

  const save = async (row: KeyRow) => {
    if (!edit || !aliases.data) return;
    const others = aliases.data.items.filter((a) => a.apiKeyHash !== row.hash).map((a) => a.alias);
    const invalid = validateAlias(edit.value, others);
    if (invalid) {
      setEdit({ ...edit, error: t(`apiKeysPage.alias.error.${invalid}`), serverError: null });
      return;
    }
    const put = aliasPutItem(row, edit.value, cpaKeys);
    if (!put.ok) {
      setEdit({ ...edit, error: t(`apiKeysPage.alias.error.${put.error}`), serverError: null });
      return;
    }
    setEdit({ ...edit, error: null, serverError: null, saving: true });
    try {
      const doc = await putAliases(api, [put.item]);
      queryClient.setQueryData(ALIASES_KEY, doc);
      if ('apiKey' in put.item) {
        const hash = hashForAlias(doc, put.item.alias);
        const key = put.item.apiKey;
        if (hash !== null) {
          setLearned((prev) => {
            const next = new Map(prev);
            next.set(key, hash);
            return next;
          });
        }
      }
      setEdit(null);
      setNotice(t('apiKeysPage.notice.saved', { alias: put.item.alias }));
    } catch (e) {
      // 409: the alias is taken; the server's message says by which key hash,
      // and the refreshed list shows it.
      setEdit({ ...edit, saving: false, error: null, serverError: e });
      void queryClient.invalidateQueries({ queryKey: ALIASES_KEY });
    }
  };

  const remove = async () => {
    if (!removeTarget?.hash) return;
    setRemoving(true);
    setRemoveError(null);
    try {
      await deleteAlias(api, removeTarget.hash);
      await queryClient.invalidateQueries({ queryKey: ALIASES_KEY });
      setNotice(t('apiKeysPage.notice.removed', { alias: removeTarget.alias ?? '' }));
      setRemoveTarget(null);
    } catch (e) {
      if (isApiError(e) && e.isNotFound) {
        // Already gone.
        await queryClient.invalidateQueries({ queryKey: ALIASES_KEY });
        setRemoveTarget(null);
      } else {
        setRemoveError(e);
      }
    } finally {
      setRemoving(false);
    }
  };

  const editor = (row: KeyRow): ReactNode => {
    if (edit?.rowId !== row.id) return null;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        void save(row);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        setEdit(null);
      }
    };
    const errId = `${id}-${row.id}-err`;
    return (
      <div className="apikeys-editor">
        <div className="row">
          <label className="visually-hidden" htmlFor={`${id}-${row.id}`}>
            {t('apiKeysPage.alias.label', { mask: row.mask || shortHash(row.hash ?? '') })}
          </label>
          <input
            id={`${id}-${row.id}`}
            className="input apikeys-input"
            // Opening the editor moves the focus here.
            autoFocus
            value={edit.value}
            maxLength={400}
            onChange={(e) => setEdit({ ...edit, value: e.target.value, error: null })}
            onKeyDown={onKey}
            placeholder={t('apiKeysPage.alias.placeholder')}
            aria-invalid={edit.error ? true : undefined}
            aria-describedby={edit.error ? errId : undefined}
            disabled={edit.saving}
            data-testid="apikeys-alias-input"
          />
          <Button size="sm" variant="primary" onClick={() => void save(row)} loading={edit.saving} data-testid="apikeys-alias-save">
            {t('apiKeysPage.alias.save')}
          </Button>
          <Button size="sm" onClick={() => setEdit(null)} disabled={edit.saving} data-testid="apikeys-alias-cancel">
            {t('apiKeysPage.alias.cancel')}
          </Button>
        </div>
        {edit.error ? (
          <span id={errId} className="apikeys-error" role="alert">
            {edit.error}
          </span>
        ) : null}
        {edit.serverError ? (
          <ErrorBox error={edit.serverError} title={t('apiKeysPage.alias.saveFailed')} testId="apikeys-alias-error" />
        ) : null}
        {row.cpaIndex !== null ? <span className="muted apikeys-hint">{t('apiKeysPage.alias.sendsKey')}</span> : null}
      </div>
    );
  };

  const usageCells = (row: KeyRow) => (
    <>
      <td className="align-end">{row.usage ? f.number(row.usage.attempts) : <span className="faint">0</span>}</td>
      <td className="align-end">
        {row.usage ? (
          <span title={row.usage.unpriced > 0 ? t('apiKeysPage.table.unpricedTitle', { count: row.usage.unpriced }) : undefined}>
            {f.usd(row.usage.costUsd)}
            {row.usage.unpriced > 0 ? '*' : ''}
          </span>
        ) : (
          <span className="faint">—</span>
        )}
      </td>
    </>
  );

  const maskCell = (row: KeyRow) => (
    <span className="mono" title={row.hash ? t('apiKeysPage.table.hashTitle', { hash: row.hash }) : undefined}>
      {row.mask || (row.hash ? shortHash(row.hash) : '—')}
    </span>
  );

  const loading = !model && !aliases.error && !usage.error;
  const loadError = aliases.error ?? usage.error;

  let namedBody: ReactNode;
  let unnamedBody: ReactNode;
  let orphanBody: ReactNode = null;
  if (!model) {
    const body = loading ? (
      <SkeletonLines lines={4} />
    ) : (
      <ErrorBox error={loadError} onRetry={() => void (aliases.error ? aliases.refetch() : usage.refetch())} />
    );
    namedBody = body;
    unnamedBody = loading ? <SkeletonLines lines={3} /> : null;
  } else {
    namedBody =
      model.named.length === 0 ? (
        <EmptyState title={t('apiKeysPage.named.emptyTitle')}>{t('apiKeysPage.named.emptyBody')}</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('apiKeysPage.named.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('apiKeysPage.table.alias')}</th>
                <th scope="col">{t('apiKeysPage.table.key')}</th>
                <th scope="col">{t('apiKeysPage.table.cpa')}</th>
                <th scope="col" className="align-end">
                  {t('apiKeysPage.table.requests')}
                </th>
                <th scope="col" className="align-end">
                  {t('apiKeysPage.table.cost')}
                </th>
                <th scope="col">{t('apiKeysPage.table.updated')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('apiKeysPage.table.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {model.named.map((row) => (
                <tr key={row.id} data-testid="apikeys-row" data-kind="named" data-hash={row.hash ?? undefined} data-mask={row.mask}>
                  <td className="cell-main">{edit?.rowId === row.id ? editor(row) : row.alias}</td>
                  <td>{maskCell(row)}</td>
                  <td>{cpaBadge(row)}</td>
                  {usageCells(row)}
                  <td className="apikeys-nowrap">
                    {row.aliasUpdatedAt ? f.dateTime(row.aliasUpdatedAt) : <span className="faint">—</span>}
                  </td>
                  <td>
                    <div className="apikeys-actions">
                      <Button
                        size="sm"
                        onClick={() => startEdit(row)}
                        disabled={busy || edit !== null}
                        data-testid="apikeys-row-name"
                        aria-label={t('apiKeysPage.named.renameLabel', { alias: row.alias ?? '' })}
                      >
                        {t('apiKeysPage.named.rename')}
                      </Button>
                      <Button
                        size="sm"
                        variant="danger"
                        onClick={() => askRemove(row)}
                        disabled={busy || edit !== null}
                        data-testid="apikeys-row-delete"
                        aria-label={t('apiKeysPage.named.removeLabel', { alias: row.alias ?? '' })}
                      >
                        {t('apiKeysPage.named.remove')}
                      </Button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );

    unnamedBody =
      model.unnamed.length === 0 ? (
        cpaKeys === null ? null : (
          <EmptyState title={t('apiKeysPage.unnamed.emptyTitle')} icon="check">
            {t('apiKeysPage.unnamed.emptyBody')}
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('apiKeysPage.unnamed.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('apiKeysPage.table.key')}</th>
                <th scope="col">{t('apiKeysPage.table.where')}</th>
                <th scope="col" className="align-end">
                  {t('apiKeysPage.table.requests')}
                </th>
                <th scope="col" className="align-end">
                  {t('apiKeysPage.table.cost')}
                </th>
                <th scope="col">{t('apiKeysPage.table.alias')}</th>
              </tr>
            </thead>
            <tbody>
              {model.unnamed.map((row) => (
                <tr key={row.id} data-testid="apikeys-row" data-kind="unnamed" data-hash={row.hash ?? undefined} data-mask={row.mask}>
                  <td className="cell-main">{maskCell(row)}</td>
                  <td>
                    {row.cpaIndex !== null ? (
                      <Badge tone="ok">{t('apiKeysPage.table.cpaKey')}</Badge>
                    ) : (
                      <Badge title={t('apiKeysPage.table.usageOnlyTitle')}>{t('apiKeysPage.table.usageOnly')}</Badge>
                    )}
                    {row.cpaIndex !== null && row.hash === null ? (
                      <span className="muted apikeys-hint"> {t('apiKeysPage.unnamed.noUsage')}</span>
                    ) : null}
                  </td>
                  {usageCells(row)}
                  <td>
                    {edit?.rowId === row.id ? (
                      editor(row)
                    ) : (
                      <Button
                        size="sm"
                        variant="primary"
                        onClick={() => startEdit(row)}
                        disabled={busy || edit !== null}
                        data-testid="apikeys-row-name"
                        aria-label={t('apiKeysPage.unnamed.nameLabel', { mask: row.mask || shortHash(row.hash ?? '') })}
                      >
                        {t('apiKeysPage.unnamed.name')}
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );

    orphanBody =
      model.orphans.length === 0 ? null : (
        <Card title={t('apiKeysPage.orphans.title')} subtitle={t('apiKeysPage.orphans.subtitle')} flush data-testid="apikeys-orphans">
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">{t('apiKeysPage.orphans.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('apiKeysPage.table.alias')}</th>
                  <th scope="col">{t('apiKeysPage.table.key')}</th>
                  <th scope="col">{t('apiKeysPage.table.updated')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('apiKeysPage.table.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {model.orphans.map((row) => (
                  <tr
                    key={row.id}
                    data-testid="apikeys-orphan"
                    data-hash={row.hash ?? undefined}
                    data-mask={row.mask}
                    data-certain={row.certain ? 'true' : 'false'}
                  >
                    <td className="cell-main">
                      {row.alias}{' '}
                      {row.certain ? (
                        <Badge tone="warn">{t('apiKeysPage.orphans.badge')}</Badge>
                      ) : (
                        <Badge title={t('apiKeysPage.orphans.uncertainTitle')}>{t('apiKeysPage.orphans.uncertainBadge')}</Badge>
                      )}
                    </td>
                    <td>{maskCell(row)}</td>
                    <td className="apikeys-nowrap">
                      {row.aliasUpdatedAt ? f.dateTime(row.aliasUpdatedAt) : <span className="faint">—</span>}
                    </td>
                    <td>
                      <div className="apikeys-actions">
                        <Button
                          size="sm"
                          variant="danger"
                          onClick={() => askRemove(row)}
                          disabled={busy || edit !== null}
                          data-testid="apikeys-orphan-delete"
                          aria-label={t('apiKeysPage.named.removeLabel', { alias: row.alias ?? '' })}
                        >
                          {t('apiKeysPage.orphans.delete')}
                        </Button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {model.orphans.some((r) => !r.certain) ? (
            <p className="muted card-pad apikeys-hint">
              {t('apiKeysPage.orphans.uncertainHint', {
                count: model.unnamed.filter((r) => r.cpaIndex !== null && r.hash === null).length,
              })}
            </p>
          ) : null}
        </Card>
      );
  }

  function cpaBadge(row: KeyRow): ReactNode {
    if (row.cpaIndex !== null) return <Badge tone="ok">{t('apiKeysPage.table.cpaKey')}</Badge>;
    if (cpaKeys === null) return <span className="faint">{t('apiKeysPage.table.cpaUnknown')}</span>;
    return <Badge title={t('apiKeysPage.table.notCpaTitle')}>{t('apiKeysPage.table.notCpa')}</Badge>;
  }

  const refreshing = cpa.isFetching || aliases.isFetching || usage.isFetching || masks.isFetching;

  return (
    <div className="page apikeys-page" data-testid="apikeys-page">
      <PageHeader
        title={t('apiKeysPage.title')}
        description={t('apiKeysPage.description')}
        actions={
          <Button
            icon="refresh"
            loading={refreshing}
            onClick={() => {
              void cpa.refetch();
              void aliases.refetch();
              void usage.refetch();
              void masks.refetch();
            }}
            data-testid="apikeys-refresh"
          >
            {t('common.refresh')}
          </Button>
        }
      />

      {notice ? (
        <div className="alert alert-info row" role="status" data-testid="apikeys-notice">
          <span className="spacer">{notice}</span>
          <Button size="sm" variant="ghost" icon="close" onClick={() => setNotice(null)} aria-label={t('apiKeysPage.dismiss')} />
        </div>
      ) : null}

      <Card
        title={t('apiKeysPage.named.title')}
        subtitle={t('apiKeysPage.named.subtitle')}
        flush={Boolean(model && model.named.length > 0)}
        data-testid="apikeys-named"
      >
        {namedBody}
      </Card>

      <Card
        title={t('apiKeysPage.unnamed.title')}
        subtitle={t('apiKeysPage.unnamed.subtitle')}
        flush={Boolean(model && model.unnamed.length > 0)}
        data-testid="apikeys-unnamed"
      >
        {cpa.error ? (
          <div className={model && model.unnamed.length > 0 ? 'card-pad' : undefined}>
            <ErrorBox
              error={cpa.error}
              title={t('apiKeysPage.unnamed.cpaFailed')}
              onRetry={() => void cpa.refetch()}
              testId="apikeys-cpa-error"
            />
          </div>
        ) : null}
        {unnamedBody}
        {model?.unnamed.some((r) => r.cpaIndex !== null && r.hash === null) ? (
          <p className={model.unnamed.length > 0 ? 'muted card-pad apikeys-hint' : 'muted apikeys-hint'}>
            {t('apiKeysPage.unnamed.matchHint')}
          </p>
        ) : null}
      </Card>

      {orphanBody}

      <ConfirmDialog
        open={removeTarget !== null}
        title={removeTarget?.kind === 'orphan' ? t('apiKeysPage.remove.orphanTitle') : t('apiKeysPage.remove.title')}
        confirmLabel={t('apiKeysPage.remove.confirm')}
        tone="danger"
        busy={removing}
        onConfirm={() => void remove()}
        onClose={() => setRemoveTarget(null)}
        confirmTestId="apikeys-delete-confirm"
      >
        <p>
          {t('apiKeysPage.remove.body', {
            alias: removeTarget?.alias ?? '',
            mask: removeTarget ? removeTarget.mask || shortHash(removeTarget.hash ?? '') : '',
          })}
        </p>
        {removeTarget?.kind === 'orphan' && !removeTarget.certain ? <p>{t('apiKeysPage.remove.uncertain')}</p> : null}
        <p className="muted">{t('apiKeysPage.remove.after')}</p>
        {removeError ? <ErrorBox error={removeError} title={t('apiKeysPage.remove.failed')} /> : null}
      </ConfirmDialog>
    </div>
  );
}
