import type { ReactNode } from 'react';
import { Skeleton } from './Skeleton';

export interface StatProps {
  label: ReactNode;
  value: ReactNode;
  /** data-testid of the value element: every KPI value has one. */
  testId: string;
  loading?: boolean;
  /** A line under the value: a change badge, a hint. */
  foot?: ReactNode;
  /** Full value as a tooltip (e.g. the exact count behind "1.2M"). */
  title?: string;
}

/** One KPI: a label, a big value and an optional footer. */
export function Stat({ label, value, testId, loading = false, foot, title }: StatProps) {
  return (
    <div className="card stat">
      <div className="stat-label">{label}</div>
      {loading ? (
        <Skeleton height={30} width="70%" />
      ) : (
        <div className="stat-value" data-testid={testId} title={title}>
          {value}
        </div>
      )}
      {foot !== undefined && !loading ? <div className="stat-foot">{foot}</div> : null}
      {loading ? <Skeleton height={12} width="40%" /> : null}
    </div>
  );
}

export interface DeltaProps {
  /** Relative change, e.g. 0.12 for +12 %; null when there is no base. */
  change: number | null;
  text: string;
  /** Whether a rise is good (requests) or bad (failures, cost is neutral). */
  direction?: 'up-good' | 'up-bad' | 'neutral';
  title?: string;
}

/** A small badge with a change compared to an earlier period. */
export function Delta({ change, text, direction = 'up-good', title }: DeltaProps) {
  let cls = 'delta';
  if (change !== null && change !== 0 && direction !== 'neutral') {
    const up = change > 0;
    cls += (up ? direction === 'up-good' : direction === 'up-bad') ? ' delta-good' : ' delta-bad';
  }
  return (
    <span className={cls} title={title}>
      {text}
    </span>
  );
}
