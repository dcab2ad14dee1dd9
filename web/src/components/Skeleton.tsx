import type { CSSProperties } from 'react';

/** A placeholder block shown while data loads. */
export function Skeleton({
  width = '100%',
  height = 16,
  style,
}: {
  width?: number | string;
  height?: number | string;
  style?: CSSProperties;
}) {
  return <span className="skeleton" style={{ width, height, ...style }} aria-hidden="true" />;
}

/** Several skeleton lines, e.g. for a table or a list. */
export function SkeletonLines({ lines = 4, height = 14 }: { lines?: number; height?: number }) {
  return (
    <div className="stack" aria-hidden="true">
      {Array.from({ length: lines }, (_, i) => (
        <Skeleton key={i} height={height} width={i === lines - 1 ? '60%' : '100%'} />
      ))}
    </div>
  );
}
