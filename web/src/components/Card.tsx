import type { ReactNode } from 'react';

export interface CardProps {
  title?: ReactNode;
  subtitle?: ReactNode;
  /** Buttons or links at the right of the title. */
  actions?: ReactNode;
  /** No padding around the body (tables, charts edge to edge). */
  flush?: boolean;
  className?: string;
  children?: ReactNode;
  /** Heading level of the title; h2 by default. */
  level?: 2 | 3;
  'data-testid'?: string;
}

/** A titled panel. The title is a heading, so screen readers can jump between cards. */
export function Card({ title, subtitle, actions, flush = false, className, children, level = 2, ...rest }: CardProps) {
  const Heading = level === 2 ? 'h2' : 'h3';
  return (
    <section className={'card' + (className ? ' ' + className : '')} data-testid={rest['data-testid']}>
      {title !== undefined || actions !== undefined ? (
        <div className="card-head">
          <div>
            {title !== undefined ? <Heading>{title}</Heading> : null}
            {subtitle !== undefined ? <div className="card-sub">{subtitle}</div> : null}
          </div>
          {actions !== undefined ? <div className="row">{actions}</div> : null}
        </div>
      ) : null}
      <div className={flush ? 'card-body card-body-flush' : 'card-body'}>{children}</div>
    </section>
  );
}
