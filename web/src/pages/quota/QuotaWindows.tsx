// A list of quota windows: name, used-percent bar and reset time.
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { kindOfSeconds, usageTone, windowLength, type QuotaWindow } from './logic';

/** The name of a window: "5-hour", "Weekly", "gemini-2.5-pro", "code review · weekly". */
export function WindowName({ w }: { w: QuotaWindow }) {
  const { t } = useTranslation();
  const lengthKind = w.kind === 'model' || w.kind === 'other' ? kindOfSeconds(w.windowSeconds) : w.kind;
  const len = windowLength(w.windowSeconds);
  let length: string | null;
  switch (lengthKind) {
    case 'hours':
      length = t('quotaPage.window.hours', { count: len.hours });
      break;
    case 'days':
      length = t('quotaPage.window.days', { count: len.days });
      break;
    case 'model':
    case 'other':
      length = null;
      break;
    default:
      length = t(`quotaPage.window.${lengthKind}`);
  }
  if (w.scope) return <>{length ? `${w.scope} · ${length}` : w.scope}</>;
  return <>{length ?? t('quotaPage.window.other')}</>;
}

export function QuotaWindows({ windows, testId = 'quota-window' }: { windows: readonly QuotaWindow[]; testId?: string }) {
  const { t } = useTranslation();
  const f = useFormat();
  if (windows.length === 0) return <p className="muted quota-none">{t('quotaPage.noWindows')}</p>;
  return (
    <ul className="quota-windows">
      {windows.map((w) => {
        const used = w.usedPercent;
        const tone = usageTone(used);
        const width = used === null ? 0 : Math.min(100, used);
        return (
          <li key={w.id} className="quota-window" data-testid={testId} data-window-id={w.id} data-used={used ?? ''}>
            <div className="quota-window-head">
              <span className="quota-window-name">
                <WindowName w={w} />
              </span>
              <span className="quota-window-used num" data-testid={`${testId}-used`}>
                {used === null ? t('quotaPage.unknownUsed') : t('quotaPage.used', { percent: f.number(used, 1) })}
              </span>
            </div>
            <div
              className={`quota-bar quota-bar-${tone}`}
              role="progressbar"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={used ?? undefined}
              aria-label={t('quotaPage.usedLabel')}
            >
              <span style={{ width: `${width}%` }} />
            </div>
            {w.resetAt ? (
              <div className="quota-window-reset muted" title={f.dateTime(w.resetAt)}>
                {t('quotaPage.resets', { relative: f.relative(w.resetAt), absolute: f.dateTime(w.resetAt) })}
              </div>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
