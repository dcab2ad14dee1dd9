import { useTranslation } from 'react-i18next';
import { useAuth } from '../api/auth';
import { useCpaState } from '../api/cpaState';
import { useCpaPing, useStatus } from '../api/queries';
import { StatusDot, type Tone } from '../components/Badge';
import { Button } from '../components/Button';
import { overallHealth, type Health } from '../lib/health';
import { NARROW_QUERY, useMediaQuery } from '../lib/useMediaQuery';
import { Link } from './router';
import { LanguageSwitch, ThemeSwitch } from './Switches';

const healthTone: Record<Health, Tone> = { ok: 'ok', warn: 'warn', danger: 'danger', unknown: 'neutral' };

function CpaChip() {
  const { t } = useTranslation();
  useCpaPing();
  const cpa = useCpaState();
  const tone: Tone = cpa.connection === 'connected' ? 'ok' : cpa.connection === 'unreachable' ? 'danger' : 'neutral';
  const stateText = t(`cpa.connection.${cpa.connection}`);
  const title = cpa.error ? `${stateText}: ${cpa.error}` : stateText;
  return (
    <span className="status-chip" title={title} data-testid="header-cpa">
      <StatusDot tone={tone} label={title} />
      <span>CPA</span>
      <span className="hide-narrow mono" data-testid="header-cpa-version">
        {cpa.version ?? ''}
      </span>
    </span>
  );
}

function CollectorChip() {
  const { t } = useTranslation();
  const status = useStatus();
  const health: Health = status.error && !status.data ? 'danger' : overallHealth(status.data);
  const label = t(`health.${health}`);
  return (
    <Link
      to="/status"
      className="status-chip"
      title={t('header.collectorTitle', { state: label })}
      data-testid="header-collector"
      data-health={health}
    >
      <StatusDot tone={healthTone[health]} label={t('header.collectorTitle', { state: label })} />
      <span className="hide-narrow">{t('header.collector')}</span>
    </Link>
  );
}

export function Header({ title, menuOpen, onMenu }: { title: string; menuOpen: boolean; onMenu: () => void }) {
  const { t } = useTranslation();
  const auth = useAuth();
  const narrow = useMediaQuery(NARROW_QUERY);
  return (
    <header className="header">
      <Button
        variant="ghost"
        icon={menuOpen ? 'close' : 'menu'}
        className="menu-button"
        aria-label={menuOpen ? t('nav.close') : t('nav.open')}
        aria-expanded={menuOpen}
        aria-controls="sidebar"
        onClick={onMenu}
        data-testid="menu-button"
      />
      <div className="header-title">{title}</div>
      <div className="header-status">
        <CpaChip />
        <CollectorChip />
      </div>
      <div className="header-controls">
        {narrow ? null : (
          <>
            <LanguageSwitch />
            <ThemeSwitch />
          </>
        )}
        <Button
          variant="ghost"
          icon="logout"
          aria-label={t('header.logout')}
          title={t('header.logout')}
          onClick={() => void auth.logout()}
          data-testid="logout-button"
        />
      </div>
    </header>
  );
}
