// Pieces of a result row shared by the current run and saved runs.
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { Badge, type Tone } from '../../components/Badge';
import { WindowName } from '../quota/QuotaWindows';
import { usageTone, type QuotaWindow } from '../quota/logic';
import { ACTIONS, parseReason, type InspectionAction } from './logic';

const TONES: Record<InspectionAction, Tone> = {
  keep: 'neutral',
  enable: 'ok',
  disable: 'warn',
  reauth: 'info',
  delete: 'danger',
  error: 'danger',
};

export function isAction(value: string): value is InspectionAction {
  return (ACTIONS as readonly string[]).includes(value);
}

export function ActionBadge({ action }: { action: string }) {
  const { t } = useTranslation();
  if (!isAction(action)) return <Badge>{action}</Badge>;
  return <Badge tone={TONES[action]}>{t(`inspectionPage.action.${action}`)}</Badge>;
}

export function Reason({ text }: { text: string }) {
  const { t } = useTranslation();
  const { code, detail } = parseReason(text);
  return (
    <span className="inspection-reason">
      {code ? t(`inspectionPage.reason.${code}`) : null}
      {detail ? <span className="muted mono"> {detail}</span> : null}
    </span>
  );
}

/** The windows as evidence: "5-hour 23 % · resets in 2 h". */
export function WindowsEvidence({ windows }: { windows: readonly QuotaWindow[] }) {
  const { t } = useTranslation();
  const f = useFormat();
  if (windows.length === 0) return <span className="faint">—</span>;
  return (
    <ul className="inspection-windows">
      {windows.map((w) => (
        <li key={w.id} data-testid="inspection-window" data-window-id={w.id} data-used={w.usedPercent ?? ''}>
          <span className="inspection-window-name">
            <WindowName w={w} />
          </span>{' '}
          <span className={`num inspection-used inspection-used-${usageTone(w.usedPercent)}`}>
            {w.usedPercent === null ? '?' : `${f.number(w.usedPercent, 1)}%`}
          </span>
          {w.resetAt ? (
            <span className="faint inspection-reset" title={f.dateTime(w.resetAt)}>
              {' '}
              · {t('inspectionPage.resets', { relative: f.relative(w.resetAt) })}
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export function Outcome({ ok, error, action }: { ok: boolean; error?: string | null; action?: string }) {
  const { t } = useTranslation();
  const label = action && isAction(action) ? t(`inspectionPage.action.${action}`) : (action ?? '');
  return (
    <span className="inspection-outcome" data-testid="inspection-outcome" data-ok={ok} data-action={action ?? ''}>
      {ok ? (
        <Badge tone="ok">{t('inspectionPage.outcome.ok', { action: label })}</Badge>
      ) : (
        <Badge tone="danger">{t('inspectionPage.outcome.failed', { action: label })}</Badge>
      )}
      {!ok && error ? <span className="muted inspection-outcome-error"> {error}</span> : null}
    </span>
  );
}
