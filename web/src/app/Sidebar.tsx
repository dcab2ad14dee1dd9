import { useTranslation } from 'react-i18next';
import { Icon } from '../components/Icon';
import { NARROW_QUERY, useMediaQuery } from '../lib/useMediaQuery';
import { LanguageSwitch, ThemeSwitch } from './Switches';
import { NAV_GROUPS, routes } from './routes';
import { Link } from './router';

declare const __PANEL_VERSION__: string;

export function Sidebar({ currentPath, onNavigate }: { currentPath: string; onNavigate: () => void }) {
  const { t } = useTranslation();
  const narrow = useMediaQuery(NARROW_QUERY);
  const current = routes.find((r) => currentPath === r.path || currentPath.startsWith(r.path + '/'));
  return (
    <aside className="sidebar" id="sidebar" aria-label={t('nav.label')}>
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          CP
        </span>
        <span>{t('app.name')}</span>
      </div>
      <nav className="nav" aria-label={t('nav.label')}>
        {NAV_GROUPS.map((group) => {
          const pages = routes.filter((r) => r.nav !== false && r.group === group);
          if (pages.length === 0) return null;
          const headingId = `nav-group-${group}`;
          return (
            <div key={group} className="nav-group" role="group" aria-labelledby={headingId}>
              <div className="nav-group-title" id={headingId}>
                {t(`nav.groups.${group}`)}
              </div>
              {pages.map((r) => (
                <Link
                  key={r.path}
                  to={r.path}
                  className="nav-link"
                  aria-current={r === current ? 'page' : undefined}
                  onClick={onNavigate}
                  data-testid={`nav-${r.path.slice(1)}`}
                >
                  <Icon name={r.icon} />
                  <span>{t(r.titleKey)}</span>
                  {r.soon ? <span className="nav-soon">{t('nav.soon')}</span> : null}
                </Link>
              ))}
            </div>
          );
        })}
      </nav>
      {narrow ? (
        <div className="sidebar-switches">
          <LanguageSwitch />
          <ThemeSwitch />
        </div>
      ) : null}
      <div className="sidebar-foot">{t('app.panelVersion', { version: __PANEL_VERSION__ })}</div>
    </aside>
  );
}
