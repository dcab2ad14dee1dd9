// The outcome of the last action: success, partial success with the files
// that failed and why, or an error.
import { useTranslation } from 'react-i18next';
import { Button } from '../../components/Button';
import { ErrorBox } from '../../components/ErrorBox';
import type { BatchFailure } from './logic';

export interface Outcome {
  state: 'ok' | 'partial' | 'error';
  message: string;
  failed: BatchFailure[];
  /** A thrown error to describe (network, HTTP). */
  error?: unknown;
}

export function ResultNotice({ outcome, onClose }: { outcome: Outcome; onClose: () => void }) {
  const { t } = useTranslation();
  const cls = outcome.state === 'ok' ? 'alert alert-info' : outcome.state === 'partial' ? 'alert alert-warn' : 'alert af-alert-danger';
  return (
    <div className={cls} role={outcome.state === 'ok' ? 'status' : 'alert'} data-testid="authfiles-result" data-state={outcome.state}>
      <div className="spacer stack af-result-body">
        <span>{outcome.message}</span>
        {outcome.failed.length > 0 ? (
          <ul className="af-failures" data-testid="authfiles-result-failures">
            {outcome.failed.map((f, i) => (
              <li key={`${f.name}-${i}`}>
                <span className="mono">{f.name || '?'}</span>: {f.error || t('authFilesPage.result.unknownError')}
              </li>
            ))}
          </ul>
        ) : null}
        {outcome.error !== undefined ? <ErrorBox error={outcome.error} /> : null}
      </div>
      <Button size="sm" variant="ghost" icon="close" onClick={onClose} aria-label={t('authFilesPage.result.dismiss')} />
    </div>
  );
}
