import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'ok' | 'warn' | 'danger' | 'info';

export function Badge({ tone = 'neutral', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={tone === 'neutral' ? 'badge' : `badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** A coloured dot with a text alternative. */
export function StatusDot({ tone, label }: { tone: Tone; label: string }) {
  const cls = tone === 'ok' ? 'dot dot-ok' : tone === 'warn' ? 'dot dot-warn' : tone === 'danger' ? 'dot dot-danger' : 'dot';
  return <span className={cls} role="img" aria-label={label} title={label} />;
}
