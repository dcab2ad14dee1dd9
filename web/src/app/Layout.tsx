import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { EmptyState } from '../components/EmptyState';
import { Header } from './Header';
import { DEFAULT_PATH, matchRoute } from './routes';
import { Link, navigate, useLocation } from './router';
import { Sidebar } from './Sidebar';

/** The signed-in shell: sidebar, header and the page of the current route. */
export function Layout() {
  const { t } = useTranslation();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const route = matchRoute(location.path);
  const atRoot = location.path === '/';

  useEffect(() => {
    if (atRoot) navigate(DEFAULT_PATH, { replace: true });
  }, [atRoot]);

  const title = route ? t(route.titleKey) : t('notFound.title');
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  }, [title, t]);

  // The opened menu drawer takes the focus (its current page's link, else
  // the first); Escape closes it and gives the focus back to the menu button.
  useEffect(() => {
    if (!menuOpen) return;
    const frame = requestAnimationFrame(() => {
      const sidebar = document.getElementById('sidebar');
      const link = sidebar?.querySelector<HTMLElement>('[aria-current="page"]') ?? sidebar?.querySelector<HTMLElement>('a[href]');
      link?.focus();
    });
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setMenuOpen(false);
      document.querySelector<HTMLElement>('[data-testid="menu-button"]')?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener('keydown', onKey);
    };
  }, [menuOpen]);

  const Page = route?.component;
  return (
    <div className="shell" data-menu-open={menuOpen}>
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        {t('nav.skip')}
      </a>
      <Sidebar currentPath={location.path} onNavigate={() => setMenuOpen(false)} />
      <button type="button" className="drawer-backdrop" aria-label={t('nav.close')} tabIndex={-1} onClick={() => setMenuOpen(false)} />
      <Header title={title} menuOpen={menuOpen} onMenu={() => setMenuOpen((o) => !o)} />
      <main className="main" id="main" tabIndex={-1}>
        {Page ? (
          <Page key={route.path} />
        ) : atRoot ? null : (
          <div className="page">
            <EmptyState title={t('notFound.title')} icon="info" action={<Link to={DEFAULT_PATH}>{t('notFound.back')}</Link>}>
              {t('notFound.body', { path: location.path })}
            </EmptyState>
          </div>
        )}
      </main>
    </div>
  );
}
