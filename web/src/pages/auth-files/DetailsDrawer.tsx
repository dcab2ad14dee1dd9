// Details of one auth file in a side panel (a modal <dialog>): its fields,
// usage of the last 7 days, the models CPA serves with it, and a quota reset.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { ErrorBox } from '../../components/ErrorBox';
import { SkeletonLines } from '../../components/Skeleton';
import { resetQuota, useAuthFileModels } from './api';
import { firstText, providerOf, statusOf, statusTone, type AccountUsage, type AuthFileEntry } from './logic';

export function DetailsDrawer({ entry, usage, onClose }: { entry: AuthFileEntry; usage: AccountUsage | undefined; onClose: () => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const api = useApi();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const models = useAuthFileModels(entry.name);
  const [resetting, setResetting] = useState(false);
  const [resetResult, setResetResult] = useState<{ ok: boolean; models: string[]; error?: unknown } | null>(null);
  const closeRef = useRef(onClose);
  useEffect(() => {
    closeRef.current = onClose;
  });

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    const opener = document.activeElement;
    if (!d.open) d.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      closeRef.current();
    };
    d.addEventListener('cancel', onCancel);
    return () => {
      d.removeEventListener('cancel', onCancel);
      if (d.open) d.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, []);

  const reset = async () => {
    if (!entry.auth_index) return;
    setResetting(true);
    try {
      const r = await resetQuota(api, entry.auth_index);
      setResetResult({ ok: true, models: (r.models ?? []).filter((m): m is string => typeof m === 'string') });
    } catch (e) {
      setResetResult({ ok: false, models: [], error: e });
    } finally {
      setResetting(false);
    }
  };

  const status = statusOf(entry);
  const rows: [string, ReactNode][] = [
    [t('authFilesPage.details.provider'), providerOf(entry)],
    [
      t('authFilesPage.details.status'),
      <Badge key="s" tone={statusTone(status)}>
        {status}
      </Badge>,
    ],
    [t('authFilesPage.details.message'), firstText(entry.status_message) || '—'],
    [t('authFilesPage.details.email'), firstText(entry.email) || '—'],
    [t('authFilesPage.details.label'), firstText(entry.label) || '—'],
    [
      t('authFilesPage.details.authIndex'),
      <span key="i" className="mono">
        {entry.auth_index ?? '—'}
      </span>,
    ],
    [t('authFilesPage.details.project'), entry.project_id ?? '—'],
    [t('authFilesPage.details.priority'), entry.priority ?? '—'],
    [t('authFilesPage.details.weight'), entry.weight ?? '—'],
    [t('authFilesPage.details.note'), firstText(entry.note) || '—'],
    [t('authFilesPage.details.lastRefresh'), entry.last_refresh ? f.dateTime(entry.last_refresh) : '—'],
    [t('authFilesPage.details.nextRetry'), entry.next_retry_after ? f.dateTime(entry.next_retry_after) : '—'],
    [t('authFilesPage.details.modified'), entry.modtime ? f.dateTime(entry.modtime) : '—'],
    [t('authFilesPage.details.size'), entry.size !== undefined ? f.bytes(entry.size) : '—'],
    [
      t('authFilesPage.details.cpaCounters'),
      t('authFilesPage.details.cpaCountersValue', { success: entry.success ?? 0, failed: entry.failed ?? 0 }),
    ],
    [
      t('authFilesPage.details.usage7d'),
      usage
        ? t('authFilesPage.details.usageValue', {
            requests: f.number(usage.attempts),
            failed: f.number(usage.failed),
            tokens: f.tokens(usage.tokens),
            cost: f.usd(usage.costUsd),
          })
        : t('authFilesPage.details.noUsage'),
    ],
  ];

  return (
    <dialog ref={ref} className="af-drawer" aria-labelledby={titleId} data-testid="authfiles-drawer">
      <div className="af-drawer-head">
        <div>
          <h2 id={titleId}>{t('authFilesPage.details.title')}</h2>
          <div className="card-sub mono">{entry.name}</div>
        </div>
        <Button
          icon="close"
          variant="ghost"
          aria-label={t('authFilesPage.details.close')}
          onClick={onClose}
          data-testid="authfiles-drawer-close"
        />
      </div>
      <div className="af-drawer-body stack">
        <dl className="dl">
          {rows.map(([k, v]) => (
            <div className="dl-row" key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>

        <section className="stack">
          <h3 className="af-h3">{t('authFilesPage.details.models')}</h3>
          {models.data === undefined ? (
            models.error ? (
              <ErrorBox error={models.error} onRetry={() => void models.refetch()} />
            ) : (
              <SkeletonLines lines={3} />
            )
          ) : models.data.length === 0 ? (
            <span className="muted">{t('authFilesPage.details.noModels')}</span>
          ) : (
            <ul className="af-models" data-testid="authfiles-models">
              {models.data.map((m) => (
                <li key={m.id}>
                  <span className="mono">{m.id}</span>
                  {m.display_name ? <span className="muted"> · {m.display_name}</span> : null}
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="stack">
          <h3 className="af-h3">{t('authFilesPage.details.quota')}</h3>
          <p className="muted">{t('authFilesPage.details.quotaHint')}</p>
          <div>
            <Button onClick={() => void reset()} loading={resetting} disabled={!entry.auth_index} data-testid="authfiles-reset-quota">
              {t('authFilesPage.details.resetQuota')}
            </Button>
          </div>
          {resetResult?.ok ? (
            <div role="status" className="stack af-reset" data-testid="authfiles-reset-result" data-count={resetResult.models.length}>
              <span>{t('authFilesPage.details.resetDone', { count: resetResult.models.length })}</span>
              {resetResult.models.length > 0 ? (
                <span className="af-sub muted" data-testid="authfiles-reset-models">
                  {t('authFilesPage.details.resetModels', { models: resetResult.models.join(', ') })}
                </span>
              ) : null}
            </div>
          ) : null}
          {resetResult && !resetResult.ok ? <ErrorBox error={resetResult.error} title={t('authFilesPage.details.resetFailed')} /> : null}
        </section>
      </div>
    </dialog>
  );
}
