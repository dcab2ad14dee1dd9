// The controls of a batch of provider probes, shared by the quota and the
// inspection pages: the concurrency select, the cancel button next to the
// start button, and the status line that counts the finished probes.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../../components/Button';
import type { TKey } from '../../i18n';
import { clampConcurrency } from './logic';

/** The concurrency choices, probes at a time. */
const CONCURRENCY_CHOICES = [1, 2, 3, 4, 5, 6, 7, 8];

/** The labelled select of how many probes run at a time. */
export function ConcurrencyField({
  id,
  label,
  value,
  fallback,
  onChange,
  disabled,
  testId,
}: {
  id: string;
  label: string;
  value: number;
  /** What an unreadable choice falls back to. */
  fallback: number;
  onChange: (n: number) => void;
  disabled: boolean;
  testId: string;
}) {
  return (
    <div className="field quota-field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <select
        id={id}
        className="select"
        value={value}
        onChange={(e) => onChange(clampConcurrency(e.target.value, fallback))}
        disabled={disabled}
        data-testid={testId}
      >
        {CONCURRENCY_CHOICES.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The toolbar's buttons: cancel while a batch runs, then the start button (children). */
export function BatchActions({
  running,
  onCancel,
  cancelLabel,
  cancelTestId,
  children,
}: {
  running: boolean;
  onCancel: () => void;
  cancelLabel: string;
  cancelTestId: string;
  children: ReactNode;
}) {
  return (
    <div className="quota-toolbar-actions">
      {running ? (
        <Button icon="close" onClick={onCancel} data-testid={cancelTestId}>
          {cancelLabel}
        </Button>
      ) : null}
      {children}
    </div>
  );
}

/** The texts of a batch's status line; each gets done and total. */
export interface ProgressKeys {
  running: TKey;
  cancelled: TKey;
  finished: TKey;
}

/** The status line of a batch: its progress while it runs, then how it ended. */
export function BatchProgress({
  done,
  total,
  running,
  cancelled,
  keys,
  testId,
}: {
  done: number;
  total: number;
  running: boolean;
  cancelled: boolean;
  keys: ProgressKeys;
  testId: string;
}) {
  const { t } = useTranslation();
  const key = running ? keys.running : cancelled ? keys.cancelled : keys.finished;
  return (
    <div className="quota-progress muted" role="status" data-testid={testId} data-done={done} data-total={total} data-running={running}>
      {t(key, { done, total })}
    </div>
  );
}
