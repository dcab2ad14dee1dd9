// Export: the stored events of a period as an NDJSON download. Hosted by
// caddy-cpam it is a plain link (the session cookie authenticates, the
// browser streams and un-gzips the file); in CPA panel mode the key must go
// in a header, so the file is fetched and saved from a Blob.
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useFormat } from '../../app/format';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { saveBlob } from '../../lib/download';
import { zonedDate } from '../../lib/time';
import { useNow } from '../../lib/useNow';
import { buildExportQuery, EXPORT_PATH, EXPORT_PRESETS, type ExportPreset, type ExportSelection } from './logic';

type Choice = ExportPreset | 'custom';

export function ExportCard({ upstreams }: { upstreams: string[] }) {
  const { t } = useTranslation();
  const f = useFormat();
  const api = useApi();
  const id = useId();
  // Re-rendered every minute, so "today" follows midnight.
  const now = useNow(60_000);
  const today = zonedDate(now, f.timeZone);

  const [choice, setChoice] = useState<Choice>('30d');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [upstream, setUpstream] = useState('');
  const [downloading, setDownloading] = useState<{ received: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<{ bytes: number; name: string } | null>(null);
  const abort = useRef<AbortController | null>(null);

  const sel: ExportSelection = choice === 'custom' ? { kind: 'custom', from, to } : { kind: 'preset', preset: choice };
  const built = buildExportQuery(sel, today, f.timeZone, upstream);
  const hosted = api.connection.mode === 'hosted';
  const href = built.ok ? api.usageUrl(EXPORT_PATH, built.query) : undefined;

  const download = async () => {
    if (!built.ok) return;
    const controller = new AbortController();
    abort.current = controller;
    setError(null);
    setDone(null);
    setDownloading({ received: 0 });
    try {
      const res = await api.usageResponse(EXPORT_PATH, { query: built.query, signal: controller.signal, timeoutMs: 10 * 60_000 });
      const chunks: BlobPart[] = [];
      let received = 0;
      if (res.body) {
        const reader = res.body.getReader();
        const onAbort = () => void reader.cancel();
        controller.signal.addEventListener('abort', onAbort, { once: true });
        for (;;) {
          const { done: end, value } = await reader.read();
          if (end) break;
          chunks.push(value);
          received += value.byteLength;
          setDownloading({ received });
        }
        controller.signal.removeEventListener('abort', onAbort);
      }
      if (controller.signal.aborted) return;
      const blob = new Blob(chunks, { type: 'application/x-ndjson' });
      saveBlob(blob, built.fileName);
      setDone({ bytes: blob.size, name: built.fileName });
    } catch (e) {
      if (!controller.signal.aborted) setError(e);
    } finally {
      abort.current = null;
      setDownloading(null);
    }
  };

  const presetLabel = (p: Choice) => t(`importExportPage.export.preset.${p}`);

  return (
    <Card title={t('importExportPage.export.title')} subtitle={t('importExportPage.export.subtitle')} data-testid="export-card">
      <div className="stack">
        <div className="stack">
          <span id={`${id}-range`} className="field-label">
            {t('importExportPage.export.range')}
          </span>
          <div className="ie-segmented" role="group" aria-labelledby={`${id}-range`}>
            {[...EXPORT_PRESETS, 'custom' as const].map((p) => (
              <button
                key={p}
                type="button"
                aria-pressed={choice === p}
                className={choice === p ? 'ie-seg ie-seg-on' : 'ie-seg'}
                onClick={() => setChoice(p)}
                data-testid={`export-preset-${p}`}
              >
                {presetLabel(p)}
              </button>
            ))}
          </div>
        </div>
        {choice === 'custom' ? (
          <div className="ie-grid">
            <label className="field" htmlFor={`${id}-from`}>
              <span className="field-label">{t('importExportPage.export.from')}</span>
              <input
                id={`${id}-from`}
                className="input"
                type="date"
                value={from}
                max={to || undefined}
                onChange={(e) => setFrom(e.target.value)}
                data-testid="export-from"
              />
              <span className="field-hint">{t('importExportPage.export.fromHint')}</span>
            </label>
            <label className="field" htmlFor={`${id}-to`}>
              <span className="field-label">{t('importExportPage.export.to')}</span>
              <input
                id={`${id}-to`}
                className="input"
                type="date"
                value={to}
                min={from || undefined}
                onChange={(e) => setTo(e.target.value)}
                data-testid="export-to"
              />
              <span className="field-hint">{t('importExportPage.export.toHint')}</span>
            </label>
          </div>
        ) : null}
        <label className="field ie-narrow" htmlFor={`${id}-upstream`}>
          <span className="field-label">{t('importExportPage.export.upstream')}</span>
          <select
            id={`${id}-upstream`}
            className="select"
            value={upstream}
            onChange={(e) => setUpstream(e.target.value)}
            data-testid="export-upstream"
          >
            <option value="">{t('importExportPage.export.allUpstreams')}</option>
            {upstreams.map((u) => (
              <option key={u} value={u}>
                {u}
              </option>
            ))}
          </select>
        </label>
        <p className="muted" aria-live="polite" data-testid="export-summary">
          {built.ok
            ? t('importExportPage.export.summary', {
                range: choice === 'all' ? t('importExportPage.export.everything') : presetLabel(choice),
                tz: f.timeZone,
              })
            : null}
        </p>
        {!built.ok ? (
          <p className="ie-error" role="alert">
            {t(`importExportPage.export.error.${built.error}`)}
          </p>
        ) : null}
        <div className="row">
          {hosted ? (
            built.ok ? (
              <a className="btn btn-primary" href={href} download={built.fileName} data-testid="export-link">
                <Icon name="transfer" size={16} />
                {t('importExportPage.export.download')}
              </a>
            ) : (
              <Button variant="primary" icon="transfer" disabled data-testid="export-link">
                {t('importExportPage.export.download')}
              </Button>
            )
          ) : (
            <Button
              variant="primary"
              icon="transfer"
              onClick={() => void download()}
              disabled={!built.ok}
              loading={downloading !== null}
              data-testid="export-link"
            >
              {t('importExportPage.export.download')}
            </Button>
          )}
          {downloading ? (
            <>
              <span className="muted" role="status" data-testid="export-progress">
                {t('importExportPage.export.receiving', { size: f.bytes(downloading.received) })}
              </span>
              <Button size="sm" onClick={() => abort.current?.abort()} data-testid="export-cancel">
                {t('importExportPage.cancel')}
              </Button>
            </>
          ) : null}
        </div>
        <p className="muted ie-small">{hosted ? t('importExportPage.export.hintHosted') : t('importExportPage.export.hintCpa')}</p>
        {done ? (
          <p role="status" data-testid="export-done">
            {t('importExportPage.export.done', { name: done.name, size: f.bytes(done.bytes) })}
          </p>
        ) : null}
        {error ? <ErrorBox error={error} title={t('importExportPage.export.failed')} testId="export-error" /> : null}
      </div>
    </Card>
  );
}
