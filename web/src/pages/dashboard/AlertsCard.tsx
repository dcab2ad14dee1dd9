import { useTranslation } from 'react-i18next';
import type { Status } from '../../api/types';
import { useFormat } from '../../app/format';
import { Card } from '../../components/Card';
import { Icon } from '../../components/Icon';
import { statusAlerts, type StatusAlert } from '../../lib/health';

function AlertText({ alert }: { alert: StatusAlert }) {
  const { t } = useTranslation();
  const f = useFormat();
  switch (alert.kind) {
    case 'warning':
      return <>{alert.message}</>;
    case 'disconnected':
      return <>{alert.message ? t('dashboard.alerts.disconnectedWith', { error: alert.message }) : t('dashboard.alerts.disconnected')}</>;
    case 'stats-disabled':
      return <>{t('dashboard.alerts.statsDisabled')}</>;
    case 'dead-letters':
      return <>{t('dashboard.alerts.deadLetters', { count: alert.count ?? 0, value: f.number(alert.count ?? 0) })}</>;
  }
}

/** Warnings from the collectors: shown only when there is something to say. */
export function AlertsCard({ status }: { status: Status | undefined }) {
  const { t } = useTranslation();
  if (!status) return null;
  const alerts = statusAlerts(status);
  if (alerts.length === 0) return null;
  return (
    <Card title={t('dashboard.alerts.title')} data-testid="alerts">
      <ul className="alert-list">
        {alerts.map((a, i) => (
          <li
            key={`${a.upstream}-${a.kind}-${i}`}
            className={`alert ${a.tone === 'info' ? 'alert-info' : a.tone === 'warn' ? 'alert-warn' : 'error-box'}`}
            data-kind={a.kind}
          >
            <Icon name={a.tone === 'info' ? 'info' : 'alert'} />
            <div>
              <strong>{a.upstream}</strong>: <AlertText alert={a} />
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}
