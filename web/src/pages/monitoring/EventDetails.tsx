// Every field of one attempt, in a side panel. Escape, the close button and
// a click beside the panel close it; the focus moves into it when it opens
// and back where it was when it closes.
import { useEffect, useId, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useFormat } from '../../app/format';
import { hashFor } from '../../app/router';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { saveBlob } from '../../lib/download';
import { DASH } from '../../lib/format';
import type { ValueLabel } from './api';
import type { UsageEvent } from './types';

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="mon-details-section">
      <h3>{title}</h3>
      <dl className="dl">{children}</dl>
    </section>
  );
}

function Field({ label, children, mono = false }: { label: string; children: ReactNode; mono?: boolean }) {
  const empty = children === undefined || children === null || children === '';
  return (
    <>
      <dt>{label}</dt>
      <dd className={mono && !empty ? 'mono' : undefined}>{empty ? <span className="faint">{DASH}</span> : children}</dd>
    </>
  );
}

/** The link to CPA's request log for a request id (the logs page reads ?request=). */
/** The management API path of CPA's log file for a request id. */
export function requestLogPath(requestId: string): string {
  return `/request-log-by-id/${encodeURIComponent(requestId)}`;
}

/**
 * Downloads CPA's log of one request (an error log while CPA's request-log
 * is off, the full request log while it is on) through the management API,
 * so both panel modes authenticate the same way.
 */
function RequestLogButton({ requestId }: { requestId: string }) {
  const { t } = useTranslation();
  const api = useApi();
  const [state, setState] = useState<{ busy: boolean; error: string }>({ busy: false, error: '' });
  const download = async () => {
    setState({ busy: true, error: '' });
    try {
      const res = await api.managementResponse(requestLogPath(requestId));
      saveBlob(await res.blob(), `request-${requestId}.log`);
      setState({ busy: false, error: '' });
    } catch (err) {
      const status = (err as { status?: number }).status;
      setState({
        busy: false,
        error: status === 404 ? t('monitoringPage.details.logMissing') : err instanceof Error ? err.message : String(err),
      });
    }
  };
  return (
    <span className="row">
      <a href={hashFor('/logs', { request: requestId })} data-testid="event-details-logs-page">
        {t('monitoringPage.details.logsPage')}
      </a>
      <Button variant="ghost" disabled={state.busy} onClick={() => void download()} data-testid="event-details-log-link">
        {t('monitoringPage.details.logLink')}
      </Button>
      {state.error ? (
        <span className="muted" role="status" data-testid="event-details-log-error">
          {state.error}
        </span>
      ) : null}
    </span>
  );
}

export function EventDetails({
  event,
  onClose,
  keyLabels,
}: {
  event: UsageEvent;
  onClose: () => void;
  keyLabels: Map<string, ValueLabel>;
}) {
  const { t } = useTranslation();
  const f = useFormat();
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    panel.current?.focus();
    return () => before?.focus();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  // Keep Tab inside the panel while it is open.
  const trap = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Tab' || !panel.current) return;
    const focusable = panel.current.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), [tabindex="0"]');
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (e.shiftKey && (document.activeElement === first || document.activeElement === panel.current)) {
      e.preventDefault();
      last?.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first?.focus();
    }
  };

  const e = event;
  const tk = e.tokens;
  const headers = Object.entries(e.headers ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const keyAlias = e.apiKey ? keyLabels.get(e.apiKey.hash) : undefined;
  const yes = t('common.yes');
  const no = t('common.no');

  return (
    <div className="mon-drawer-root">
      <button
        type="button"
        className="mon-drawer-backdrop"
        aria-label={t('monitoringPage.details.close')}
        tabIndex={-1}
        onClick={onClose}
      />
      <div
        ref={panel}
        className="mon-drawer"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        data-testid="event-details"
        data-request-id={e.requestId}
        onKeyDown={trap}
      >
        <div className="mon-drawer-head">
          <div>
            <h2 id={titleId}>{t('monitoringPage.details.title')}</h2>
            <div className="card-sub">{f.dateTime(e.time)}</div>
          </div>
          <div className="row">
            {e.failed ? (
              <Badge tone="danger">{t('monitoringPage.details.failed', { status: e.statusCode })}</Badge>
            ) : (
              <Badge tone="ok">{t('monitoringPage.details.ok', { status: e.statusCode })}</Badge>
            )}
            <Button
              icon="close"
              variant="ghost"
              aria-label={t('monitoringPage.details.close')}
              onClick={onClose}
              data-testid="event-details-close"
            />
          </div>
        </div>
        <div className="mon-drawer-body">
          <Section title={t('monitoringPage.details.request')}>
            <Field label={t('monitoringPage.details.requestId')}>
              {e.requestId ? (
                <span className="row">
                  <span className="mono">{e.requestId}</span>
                  <RequestLogButton requestId={e.requestId} />
                </span>
              ) : null}
            </Field>
            <Field label={t('monitoringPage.details.time')}>{f.dateTime(e.time)}</Field>
            <Field label={t('monitoringPage.dims.upstream')}>{e.upstream}</Field>
            <Field label={t('monitoringPage.dims.endpoint')} mono>
              {e.endpoint}
            </Field>
            <Field label={t('monitoringPage.dims.model')} mono>
              {e.model}
            </Field>
            <Field label={t('monitoringPage.dims.alias')} mono>
              {e.alias}
            </Field>
            <Field label={t('monitoringPage.dims.provider')}>{e.provider}</Field>
            <Field label={t('monitoringPage.details.executor')}>{e.executorType}</Field>
            <Field label={t('monitoringPage.details.status')}>{e.statusCode || null}</Field>
            <Field label={t('monitoringPage.details.generate')}>{e.generate ? yes : no}</Field>
            <Field label={t('monitoringPage.details.reasoningEffort')}>{e.reasoningEffort}</Field>
            <Field label={t('monitoringPage.details.serviceTier')}>{e.serviceTier}</Field>
            <Field label={t('monitoringPage.details.responseServiceTier')}>{e.responseServiceTier}</Field>
          </Section>

          <Section title={t('monitoringPage.details.timing')}>
            <Field label={t('monitoringPage.live.latency')}>{f.duration(e.latencyMs)}</Field>
            <Field label={t('monitoringPage.live.ttft')}>
              {e.ttftMs > 0 ? f.duration(e.ttftMs) : t('monitoringPage.details.notMeasured')}
            </Field>
          </Section>

          <Section title={t('monitoringPage.details.tokens')}>
            <Field label={t('monitoringPage.charts.uncached')}>{f.number(tk.uncached)}</Field>
            <Field label={t('monitoringPage.charts.cacheRead')}>{f.number(tk.cacheRead)}</Field>
            <Field label={t('monitoringPage.charts.cacheWrite')}>{f.number(tk.cacheWrite)}</Field>
            <Field label={t('monitoringPage.details.inputTotal')}>{f.number(tk.input)}</Field>
            <Field label={t('monitoringPage.charts.output')}>{f.number(tk.output)}</Field>
            <Field label={t('monitoringPage.charts.reasoning')}>{f.number(tk.reasoning)}</Field>
            <Field label={t('monitoringPage.details.outputTotal')}>{f.number(tk.outputTotal)}</Field>
            <Field label={t('monitoringPage.details.unclassified')}>{f.number(tk.unclassified)}</Field>
            <Field label={t('monitoringPage.details.total')}>{f.number(tk.total)}</Field>
            <Field label={t('monitoringPage.details.quality')}>{tk.quality}</Field>
          </Section>

          <Section title={t('monitoringPage.details.cost')}>
            <Field label={t('monitoringPage.details.cost')}>
              {e.priced ? (
                <span title={t('monitoringPage.details.microUsd', { value: f.number(e.costMicroUsd) })}>{f.usd(e.costUsd)}</span>
              ) : (
                t('monitoringPage.breakdown.unpricedTitle')
              )}
            </Field>
            <Field label={t('monitoringPage.details.priced')}>{e.priced ? yes : no}</Field>
          </Section>

          <Section title={t('monitoringPage.dims.account')}>
            <Field label={t('monitoringPage.details.authIndex')} mono>
              {e.authIndex}
            </Field>
            <Field label={t('monitoringPage.details.authType')}>{e.authType}</Field>
            <Field label={t('monitoringPage.details.accountLabel')}>{e.account?.label}</Field>
            <Field label={t('monitoringPage.details.email')}>{e.account?.email}</Field>
            <Field label={t('monitoringPage.dims.provider')}>{e.account?.provider}</Field>
            <Field label={t('monitoringPage.details.project')}>{e.account?.projectId}</Field>
            <Field label={t('monitoringPage.details.file')} mono>
              {e.account?.fileName}
            </Field>
          </Section>

          <Section title={t('monitoringPage.details.client')}>
            <Field label={t('monitoringPage.dims.api_key')}>
              {e.apiKey ? (
                <span>
                  {keyAlias && keyAlias.label !== e.apiKey.mask ? <>{keyAlias.label} </> : null}
                  <span className="mono">{e.apiKey.mask}</span>
                </span>
              ) : null}
            </Field>
            <Field label={t('monitoringPage.details.keyHash')} mono>
              {e.apiKey?.hash}
            </Field>
            <Field label={t('monitoringPage.details.source')}>
              {e.source ? (
                <span>
                  {t('monitoringPage.details.sourceKind', { kind: e.source.kind || DASH })}
                  {e.source.value ? <> · {e.source.value}</> : null}
                  {e.source.key ? <span className="mono"> · {e.source.key.mask}</span> : null}
                </span>
              ) : null}
            </Field>
            <Field label={t('monitoringPage.details.clientIp')} mono>
              {e.clientIp}
            </Field>
            <Field label={t('monitoringPage.details.forwardedFor')} mono>
              {e.xForwardedFor}
            </Field>
            <Field label={t('monitoringPage.details.userAgent')}>{e.userAgent}</Field>
            <Field label={t('monitoringPage.details.accessToken')} mono>
              {e.accessTokenSha256}
            </Field>
          </Section>

          <section className="mon-details-section">
            <h3>{t('monitoringPage.details.headers')}</h3>
            {headers.length === 0 ? (
              <p className="faint">{t('monitoringPage.details.noHeaders')}</p>
            ) : (
              <dl className="dl">
                {headers.map(([k, v]) => (
                  <Field key={k} label={k} mono>
                    {v}
                  </Field>
                ))}
              </dl>
            )}
          </section>

          {e.failed || e.failBody ? (
            <section className="mon-details-section">
              <h3>{t('monitoringPage.failures.body')}</h3>
              {e.failBody ? <pre className="mon-pre">{e.failBody}</pre> : <p className="faint">{DASH}</p>}
            </section>
          ) : null}

          <Section title={t('monitoringPage.details.stored')}>
            <Field label={t('monitoringPage.details.id')} mono>
              {String(e.id)}
            </Field>
            <Field label={t('monitoringPage.details.hash')} mono>
              {e.hash}
            </Field>
          </Section>
        </div>
      </div>
    </div>
  );
}
