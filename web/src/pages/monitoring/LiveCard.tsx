import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { Badge, StatusDot, type Tone } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { useNow } from '../../lib/useNow';
import type { ValueLabel } from './api';
import { rowKeyHandler } from './BreakdownCard';
import { accountName, apiKeyName, useClock } from './format';
import { LIVE_CAP, POLL_MS, type LiveIndicator } from './live';
import type { UsageEvent } from './types';
import { useLiveFeed, type LiveFeed } from './useLiveFeed';

const TONES: Record<LiveIndicator, Tone> = { live: 'ok', reconnecting: 'warn', paused: 'neutral', polling: 'info' };

function LiveStatus({ feed }: { feed: LiveFeed }) {
  const { t } = useTranslation();
  const f = useFormat();
  const retry = feed.indicator === 'reconnecting' ? feed.retry : null;
  const now = useNow(1000, retry !== null);
  let text: string;
  switch (feed.indicator) {
    case 'live':
      text = t('monitoringPage.live.state.live');
      break;
    case 'paused':
      text = t('monitoringPage.live.state.paused');
      break;
    case 'polling':
      text = t('monitoringPage.live.state.polling', { seconds: f.number(POLL_MS / 1000) });
      break;
    case 'reconnecting':
      if (feed.connection === 'connecting') text = t('monitoringPage.live.state.connecting');
      else if (retry !== null) {
        // now was last updated before the wait began: never count above the wait itself.
        const seconds = Math.max(0, Math.ceil(Math.min(retry.delayMs, retry.at - now) / 1000));
        text = t('monitoringPage.live.state.retryIn', { seconds: f.number(seconds) });
      } else text = t('monitoringPage.live.state.reconnecting');
      break;
  }
  const tone = TONES[feed.indicator];
  return (
    <span className="mon-live-status" data-testid="live-status" data-state={feed.indicator} role="status" aria-live="polite">
      {tone === 'info' ? <Icon name="refresh" size={14} /> : <StatusDot tone={tone} label={text} />}
      <span>{text}</span>
    </span>
  );
}

// Memoised: a frame re-renders the table, but only its new rows change.
const LiveRow = memo(function LiveRow({
  e,
  onOpen,
  keyLabels,
}: {
  e: UsageEvent;
  onOpen: (e: UsageEvent) => void;
  keyLabels: Map<string, ValueLabel>;
}) {
  const { t } = useTranslation();
  const f = useFormat();
  const clock = useClock();
  return (
    <tr
      data-testid="live-row"
      data-request-id={e.requestId}
      data-id={e.id}
      className={'mon-row-click' + (e.failed ? ' mon-row-failed' : '')}
      tabIndex={0}
      onClick={() => onOpen(e)}
      onKeyDown={rowKeyHandler(() => onOpen(e))}
    >
      <td className="mon-nowrap" title={f.dateTime(e.time)}>
        {clock.time(e.time)}
      </td>
      <td>
        {e.failed ? (
          <Badge tone="danger">{e.statusCode || t('monitoringPage.live.noStatus')}</Badge>
        ) : (
          <Badge tone="ok">{e.statusCode || t('monitoringPage.live.ok')}</Badge>
        )}
      </td>
      <td
        className="mon-nowrap"
        title={e.alias && e.alias !== e.model ? t('monitoringPage.live.aliasTitle', { alias: e.alias }) : undefined}
      >
        {e.model || e.alias || '—'}
      </td>
      <td className="mon-ellipsis" title={e.authIndex}>
        {accountName(e)}
      </td>
      <td className="mon-nowrap">{apiKeyName(e, keyLabels)}</td>
      <td
        className="align-end"
        title={t('monitoringPage.live.tokensTitle', { input: f.number(e.tokens.input), output: f.number(e.tokens.outputTotal) })}
      >
        {f.tokens(e.tokens.input)} / {f.tokens(e.tokens.outputTotal)}
      </td>
      <td className="align-end">{f.duration(e.latencyMs)}</td>
      <td className="align-end">{e.ttftMs > 0 ? f.duration(e.ttftMs) : '—'}</td>
      <td className="align-end">{e.priced ? f.usd(e.costUsd) : <span className="muted">{t('monitoringPage.breakdown.unpriced')}</span>}</td>
    </tr>
  );
});

/** The newest attempts as they are stored, with the page's filters (not its period). */
export function LiveCard({
  filters,
  timeZone,
  onOpen,
  keyLabels,
}: {
  /** The page's filters as a query string; give the card a key that changes with them. */
  filters: string;
  timeZone: string;
  onOpen: (e: UsageEvent) => void;
  keyLabels: Map<string, ValueLabel>;
}) {
  const { t } = useTranslation();
  const f = useFormat();
  const feed = useLiveFeed(filters, timeZone);
  const { state } = feed;
  return (
    <Card
      title={t('monitoringPage.live.title')}
      subtitle={t(feed.mode === 'poll' ? 'monitoringPage.live.subtitlePoll' : 'monitoringPage.live.subtitle', { cap: f.number(LIVE_CAP) })}
      flush
      data-testid="live-card"
      actions={
        <>
          <LiveStatus feed={feed} />
          {state.paused && state.newCount > 0 ? (
            <Badge tone="info">
              <span data-testid="live-new">{t('monitoringPage.live.new', { count: state.newCount, value: f.number(state.newCount) })}</span>
            </Badge>
          ) : null}
          {feed.indicator === 'reconnecting' && feed.connection !== 'connecting' ? (
            <Button size="sm" icon="refresh" onClick={feed.retryNow} data-testid="live-retry">
              {t('monitoringPage.live.retryNow')}
            </Button>
          ) : null}
          <Button
            size="sm"
            variant={state.paused ? 'primary' : 'default'}
            aria-pressed={state.paused}
            onClick={state.paused ? feed.resume : feed.pause}
            data-testid="live-pause"
          >
            {state.paused ? t('monitoringPage.live.resume') : t('monitoringPage.live.pause')}
          </Button>
        </>
      }
    >
      {feed.error || feed.state.gap || (feed.closeReason && feed.indicator === 'reconnecting') ? (
        <div className="card-pad stack">
          {feed.error ? <ErrorBox error={feed.error} onRetry={feed.retryNow} testId="live-error" /> : null}
          {feed.closeReason && feed.indicator === 'reconnecting' ? (
            <div className="alert alert-info" role="status">
              <Icon name="info" />
              <div>{t('monitoringPage.live.closed', { reason: feed.closeReason || t('monitoringPage.live.closedUnknown') })}</div>
            </div>
          ) : null}
          {feed.state.gap ? (
            <div className="alert alert-warn" data-testid="live-gap">
              <Icon name="alert" />
              <div className="spacer">{t('monitoringPage.live.gap')}</div>
              <Button size="sm" variant="ghost" onClick={feed.dismissGap}>
                {t('monitoringPage.live.dismiss')}
              </Button>
            </div>
          ) : null}
        </div>
      ) : null}
      {state.rows.length === 0 ? (
        <div className="card-pad">
          <EmptyState title={t('monitoringPage.live.emptyTitle')}>{t('monitoringPage.live.emptyBody')}</EmptyState>
        </div>
      ) : null}
      <div className="table-wrap mon-live-wrap" hidden={state.rows.length === 0}>
        <table className="table mon-table" data-testid="live-table">
          <caption className="visually-hidden">{t('monitoringPage.live.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('monitoringPage.live.time')}</th>
              <th scope="col">{t('monitoringPage.live.status')}</th>
              <th scope="col">{t('monitoringPage.dims.model')}</th>
              <th scope="col">{t('monitoringPage.dims.account')}</th>
              <th scope="col">{t('monitoringPage.dims.api_key')}</th>
              <th scope="col" className="align-end">
                {t('monitoringPage.live.tokens')}
              </th>
              <th scope="col" className="align-end">
                {t('monitoringPage.live.latency')}
              </th>
              <th scope="col" className="align-end">
                {t('monitoringPage.live.ttft')}
              </th>
              <th scope="col" className="align-end">
                {t('monitoringPage.live.cost')}
              </th>
            </tr>
          </thead>
          <tbody>
            {state.rows.map((e) => (
              <LiveRow key={e.id} e={e} onOpen={onOpen} keyLabels={keyLabels} />
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
