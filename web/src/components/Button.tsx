import type { ButtonHTMLAttributes, ReactNode } from 'react';
import { Icon, type IconName } from './Icon';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: 'default' | 'primary' | 'ghost' | 'danger';
  size?: 'md' | 'sm';
  icon?: IconName;
  /** Shows the button busy and disabled. */
  loading?: boolean;
  block?: boolean;
  children?: ReactNode;
}

/** The panel's button. type defaults to "button" so it never submits a form by accident. */
export function Button({
  variant = 'default',
  size = 'md',
  icon,
  loading = false,
  block = false,
  className,
  children,
  disabled,
  type,
  ...rest
}: ButtonProps) {
  const classes = ['btn'];
  if (variant !== 'default') classes.push(`btn-${variant}`);
  if (size === 'sm') classes.push('btn-sm');
  if (block) classes.push('btn-block');
  if (icon && !children) classes.push('btn-icon');
  if (className) classes.push(className);
  return (
    <button
      type={type ?? 'button'}
      className={classes.join(' ')}
      disabled={(disabled ?? false) || loading}
      aria-busy={loading || undefined}
      {...rest}
    >
      {icon ? <Icon name={icon} size={size === 'sm' ? 14 : 16} /> : null}
      {children}
    </button>
  );
}
