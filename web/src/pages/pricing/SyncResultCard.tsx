// What a price sync did: each catalogue's outcome, the prices imported,
// the models left alone, the unknown ones, and the ambiguous ones with
// their candidates (one click applies a candidate as a manual price).
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { TKey } from '../../i18n';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { Icon } from '../../components/Icon';
import type { SyncOutcome } from './api';
import { formatPerMillion } from './format';
import { openCandidates } from './logic';
import type { PriceEntry, SyncMatch, SyncSource } from './types';

function Sources({ sources }: { sources: SyncSource[] }) {
  const { t } = useTranslation();
  const f = useFormat();
  if (sources.length === 0) return null;
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">{t('pricingPage.sync.sources')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('pricingPage.sync.source')}</th>
            <th scope="col" className="align-end">
              {t('pricingPage.sync.parsed')}
            </th>
            <th scope="col">{t('pricingPage.sync.outcome')}</th>
          </tr>
        </thead>
        <tbody>
          {sources.map((s, i) => (
            <tr key={`${s.source}-${i}`} data-testid="pricing-sync-source" data-source={s.source} data-ok={s.error ? 'false' : 'true'}>
              <td className="cell-main">
                <div>{s.source}</div>
                <div className="muted mono pricing-url">{s.url}</div>
              </td>
              <td className="align-end">{s.error ? '—' : f.number(s.models)}</td>
              <td>
                {s.error ? (
                  <span className="pricing-source-error">{s.error}</span>
                ) : (
                  <Badge tone="ok">{t('pricingPage.sync.sourceOk')}</Badge>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NameList({ title, names, hint, testId }: { title: string; names: string[]; hint: string; testId: string }) {
  if (names.length === 0) return null;
  return (
    <details className="pricing-names" data-testid={testId} open={names.length <= 12}>
      <summary>
        {title} ({names.length})
      </summary>
      <p className="muted">{hint}</p>
      <ul className="pricing-chips">
        {names.map((n) => (
          <li key={n} className="mono">
            {n}
          </li>
        ))}
      </ul>
    </details>
  );
}

function MatchPrice({ m }: { m: SyncMatch }) {
  const { t } = useTranslation();
  const f = useFormat();
  return (
    <span className="num">
      {t('pricingPage.sync.priceLine', {
        input: formatPerMillion(m.price.input, f.locale),
        output: formatPerMillion(m.price.output, f.locale),
        cacheRead: m.price.cacheRead ? formatPerMillion(m.price.cacheRead, f.locale) : '—',
        cacheWrite: m.price.cacheWrite ? formatPerMillion(m.price.cacheWrite, f.locale) : '—',
      })}
      {m.price.tiers.length > 0 ? ' ' + t('pricingPage.table.tierCount', { count: m.price.tiers.length }) : ''}
    </span>
  );
}

export interface SyncResultCardProps {
  outcome: SyncOutcome;
  prices: Record<string, PriceEntry>;
  onChoose: (model: string, match: SyncMatch) => void;
  onDismiss: () => void;
  onRetry: () => void;
  busy: boolean;
}

/** The hint under a failed sync, by HTTP status and error code. */
function failureHintKey(status: number, code: string): TKey {
  if (status === 409) return 'pricingPage.sync.busyHint';
  if (status === 502) return 'pricingPage.sync.allFailedHint';
  if (status === 503 && code === 'no_sources') return 'pricingPage.sync.noSourcesHint';
  if (status === 503) return 'pricingPage.sync.unavailableHint';
  if (status === 429) return 'errors.status429';
  return 'pricingPage.sync.otherHint';
}

export function SyncResultCard({ outcome, prices, onChoose, onDismiss, onRetry, busy }: SyncResultCardProps) {
  const { t } = useTranslation();
  const f = useFormat();
  const dismiss = (
    <Button
      size="sm"
      variant="ghost"
      icon="close"
      onClick={onDismiss}
      aria-label={t('pricingPage.sync.dismiss')}
      data-testid="pricing-sync-dismiss"
    />
  );

  if (!outcome.ok) {
    return (
      <Card title={t('pricingPage.sync.failedTitle')} actions={dismiss} data-testid="pricing-sync-result">
        <div className="stack" data-status="failed" data-http-status={outcome.status}>
          <div className="error-box" role="alert" data-testid="pricing-sync-error">
            <Icon name="alert" />
            <div className="error-box-body">
              <div className="error-box-title">{t('errors.httpTitle', { status: outcome.status })}</div>
              {outcome.message ? <div>{outcome.message}</div> : null}
              <div className="muted">{t(failureHintKey(outcome.status, outcome.code))}</div>
            </div>
            {outcome.status === 409 || outcome.status >= 500 ? (
              <Button size="sm" icon="refresh" onClick={onRetry} disabled={busy}>
                {t('common.retry')}
              </Button>
            ) : null}
          </div>
          <Sources sources={outcome.sources} />
        </div>
      </Card>
    );
  }

  const r = outcome.result;
  const matched = Object.entries(r.matched).sort(([a], [b]) => a.localeCompare(b));
  const open = openCandidates(r.candidates, prices);
  const failedSources = r.sources.filter((s) => s.error).length;
  const tiles: [string, number, string][] = [
    [t('pricingPage.sync.imported'), r.imported, 'imported'],
    [t('pricingPage.sync.preserved'), r.preserved.length, 'preserved'],
    [t('pricingPage.sync.kept'), r.kept.length, 'kept'],
    [t('pricingPage.sync.unmatched'), r.unmatched.length, 'unmatched'],
    [t('pricingPage.sync.ambiguous'), r.candidates.length, 'ambiguous'],
  ];
  let candidatesBlock: ReactNode = null;
  if (r.candidates.length > 0) {
    candidatesBlock = (
      <section className="stack" aria-labelledby="pricing-candidates-title" data-testid="pricing-sync-candidates">
        <h3 id="pricing-candidates-title">{t('pricingPage.sync.candidatesTitle')}</h3>
        <p className="muted">{t('pricingPage.sync.candidatesHint')}</p>
        {r.candidates.map((c) => {
          const done = !open.includes(c);
          return (
            <div
              key={c.model}
              className="pricing-candidate"
              data-testid="pricing-candidate"
              data-model={c.model}
              data-resolved={done ? 'true' : 'false'}
            >
              <div className="row">
                <strong className="mono">{c.model}</strong>
                {done ? <Badge tone="ok">{t('pricingPage.sync.applied')}</Badge> : null}
              </div>
              <ul className="pricing-candidate-list">
                {c.candidates.map((m, i) => (
                  <li key={`${m.source}-${m.sourceModelId}-${i}`}>
                    <div>
                      <Badge tone="ok">{m.source}</Badge> <span className="mono">{m.sourceModelId}</span>
                      <div>
                        <MatchPrice m={m} />
                      </div>
                    </div>
                    <Button
                      size="sm"
                      onClick={() => onChoose(c.model, m)}
                      disabled={busy}
                      data-testid="pricing-candidate-use"
                      aria-label={t('pricingPage.sync.useLabel', { model: c.model, entry: m.sourceModelId })}
                    >
                      {t('pricingPage.sync.use')}
                    </Button>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </section>
    );
  }

  return (
    <Card
      title={t('pricingPage.sync.resultTitle')}
      subtitle={failedSources > 0 ? t('pricingPage.sync.someFailed', { count: failedSources }) : t('pricingPage.sync.resultSubtitle')}
      actions={dismiss}
      data-testid="pricing-sync-result"
    >
      <div className="stack" data-status="ok" data-imported={r.imported}>
        <div className="tiles">
          {tiles.map(([label, value, key]) => (
            <div key={key} className="tile">
              <span className="tile-value" data-testid={`pricing-sync-${key}`}>
                {f.number(value)}
              </span>
              <span className="tile-label">{label}</span>
            </div>
          ))}
        </div>
        <Sources sources={r.sources} />
        {matched.length > 0 ? (
          <details className="pricing-names" data-testid="pricing-sync-list-matched" open={matched.length <= 12}>
            <summary>
              {t('pricingPage.sync.matchedTitle')} ({matched.length})
            </summary>
            <ul className="pricing-matched">
              {matched.map(([model, m]) => (
                <li key={model}>
                  <span className="mono">{model}</span> ← {m.source} <span className="mono muted">{m.sourceModelId}</span> ·{' '}
                  <MatchPrice m={m} />
                </li>
              ))}
            </ul>
          </details>
        ) : null}
        <NameList
          title={t('pricingPage.sync.preserved')}
          names={r.preserved}
          hint={t('pricingPage.sync.preservedHint')}
          testId="pricing-sync-list-preserved"
        />
        <NameList title={t('pricingPage.sync.kept')} names={r.kept} hint={t('pricingPage.sync.keptHint')} testId="pricing-sync-list-kept" />
        <NameList
          title={t('pricingPage.sync.unmatched')}
          names={r.unmatched}
          hint={t('pricingPage.sync.unmatchedHint')}
          testId="pricing-sync-list-unmatched"
        />
        {candidatesBlock}
      </div>
    </Card>
  );
}
