// Pieces of a result row shared by the current run and saved runs.
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { Badge, type Tone } from '../../components/Badge';
import { WindowName } from '../quota/QuotaWindows';
import { usageTone, type QuotaWindow } from '../quota/logic';
import type { ReactNode } from 'react';
import { ACTIONS, fromResultWindows, parseReason, type InspectionAction, type InspectionResult } from './logic';

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

/** The header row of a results table; selectable adds the leading checkbox column. */
export function ResultHead({ selectable = false }: { selectable?: boolean }) {
  const { t } = useTranslation();
  return (
    <thead>
      <tr>
        {selectable ? (
          <th scope="col">
            <span className="visually-hidden">{t('inspectionPage.table.select')}</span>
          </th>
        ) : null}
        <th scope="col">{t('inspectionPage.table.account')}</th>
        <th scope="col">{t('inspectionPage.table.status')}</th>
        <th scope="col">{t('inspectionPage.table.windows')}</th>
        <th scope="col">{t('inspectionPage.table.suggestion')}</th>
        <th scope="col">{t('inspectionPage.table.outcome')}</th>
      </tr>
    </thead>
  );
}

/** A result's account cell: email (or file name), file name, plan and whether it is disabled. */
export function AccountCell({ result: r }: { result: InspectionResult }) {
  const { t } = useTranslation();
  return (
    <td className="cell-main">
      <div>{r.email || r.name}</div>
      <div className="mono faint inspection-file">{r.name}</div>
      <div className="faint inspection-meta">
        {r.plan ? t('inspectionPage.table.plan', { plan: r.plan }) : null}
        {r.disabled ? <span> · {t('inspectionPage.table.disabled')}</span> : null}
      </div>
    </td>
  );
}

/** A result's 5-hour and weekly windows, the evidence of its suggestion. */
export function WindowsCell({ result }: { result: InspectionResult }) {
  return (
    <td>
      <WindowsEvidence windows={fromResultWindows(result.windows).filter((w) => w.id === 'primary' || w.id === 'secondary')} />
    </td>
  );
}

/** A result's suggested action and reason; children follow them. */
export function SuggestionCell({ result, children }: { result: InspectionResult; children?: ReactNode }) {
  return (
    <td>
      <ActionBadge action={result.action} />
      <div className="inspection-reason-line">
        <Reason text={result.reason} />
      </div>
      {children}
    </td>
  );
}
