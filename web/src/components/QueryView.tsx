import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ErrorBox } from './ErrorBox';
import { SkeletonLines } from './Skeleton';

export interface QueryViewProps<T> {
  query: Pick<UseQueryResult<T>, 'data' | 'error' | 'isPending' | 'refetch'>;
  children: (data: T) => ReactNode;
  /** Shown while the first answer loads; skeleton lines by default. */
  loading?: ReactNode;
}

/**
 * Renders a query's three states: a skeleton while it loads, an error box
 * with a retry button when it failed (and no earlier data exists), else the
 * children with the data. A failed refresh keeps showing the last data.
 */
export function QueryView<T>({ query, children, loading }: QueryViewProps<T>) {
  if (query.data !== undefined) return <>{children(query.data)}</>;
  if (query.error) return <ErrorBox error={query.error} onRetry={() => void query.refetch()} />;
  if (query.isPending) return <>{loading ?? <SkeletonLines />}</>;
  return null;
}
