import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { isApiError } from '../api/errors';
import { Button } from './Button';
import { Icon } from './Icon';

export interface DescribedError {
  title: string;
  message: string;
  /** An extra hint (e.g. CORS for a usage service on another site). */
  hint: string | null;
}

function crossOrigin(url: string): boolean {
  try {
    return new URL(url, window.location.href).origin !== window.location.origin;
  } catch {
    return false;
  }
}

/** A readable title and message for any error a query or action threw. */
export function describeError(t: TFunction, error: unknown): DescribedError {
  if (isApiError(error)) {
    if (error.kind === 'network') {
      const hint = error.source === 'usage' && crossOrigin(error.url) ? t('errors.corsHint', { origin: window.location.origin }) : null;
      return { title: t('errors.networkTitle'), message: t('errors.network', { url: error.url }), hint };
    }
    if (error.kind === 'timeout') {
      return { title: t('errors.timeoutTitle'), message: t('errors.timeout', { url: error.url }), hint: null };
    }
    let fallback: string;
    switch (error.status) {
      case 401:
        fallback = t('errors.status401');
        break;
      case 403:
        fallback = t('errors.status403');
        break;
      case 404:
        fallback = t('errors.status404');
        break;
      case 429:
        fallback = t('errors.status429');
        break;
      case 502:
      case 503:
      case 504:
        fallback = error.source === 'management' ? t('errors.cpaUnavailable') : t('errors.status5xx');
        break;
      default:
        fallback = error.status >= 500 ? t('errors.status5xx') : t('errors.statusOther');
    }
    return {
      title: t('errors.httpTitle', { status: error.status }),
      message: error.message || fallback,
      hint: null,
    };
  }
  return { title: t('errors.unexpectedTitle'), message: error instanceof Error ? error.message : String(error), hint: null };
}

export interface ErrorBoxProps {
  error: unknown;
  /** Shows a retry button. */
  onRetry?: () => void;
  /** Replaces the computed title. */
  title?: string;
  testId?: string;
}

/** An error message with what to do, and a retry button when retrying may help. */
export function ErrorBox({ error, onRetry, title, testId = 'error-box' }: ErrorBoxProps) {
  const { t } = useTranslation();
  const d = describeError(t, error);
  return (
    <div className="error-box" role="alert" data-testid={testId}>
      <Icon name="alert" />
      <div className="error-box-body">
        <div className="error-box-title">{title ?? d.title}</div>
        <div>{d.message}</div>
        {d.hint ? <div className="muted">{d.hint}</div> : null}
      </div>
      {onRetry ? (
        <Button size="sm" icon="refresh" onClick={onRetry}>
          {t('common.retry')}
        </Button>
      ) : null}
    </div>
  );
}
