import type { ReactNode } from 'react';
import { Icon, type IconName } from './Icon';

/** What a view shows when there is nothing to show yet, and why. */
export function EmptyState({
  title,
  children,
  icon = 'inbox',
  action,
}: {
  title: ReactNode;
  children?: ReactNode;
  icon?: IconName;
  action?: ReactNode;
}) {
  return (
    <div className="empty">
      <Icon name={icon} size={28} />
      <div className="empty-title">{title}</div>
      {children ? <div>{children}</div> : null}
      {action ?? null}
    </div>
  );
}
