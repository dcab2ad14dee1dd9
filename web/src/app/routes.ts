// The pages of the panel. To add a page: create src/pages/<name>/<Name>Page.tsx,
// add one entry here (path, title key, icon), and its strings to both
// src/i18n/en.json and src/i18n/zh-CN.json. The sidebar, the header title
// and the hash router all read this list.
import type { ComponentType } from 'react';
import type { IconName } from '../components/Icon';
import type { TKey } from '../i18n';
import { matchPath } from './router';
import { DashboardPage } from '../pages/dashboard/DashboardPage';
import { ImportExportPage } from '../pages/import-export/ImportExportPage';
import { ApiKeysPage } from '../pages/api-keys/ApiKeysPage';
import { MonitoringPage } from '../pages/monitoring/MonitoringPage';
import { PricingPage } from '../pages/pricing/PricingPage';
import { StatusPage } from '../pages/status/StatusPage';
import { ConfigPage } from '../pages/config/ConfigPage';
import { LogsPage } from '../pages/logs/LogsPage';
import { SystemPage } from '../pages/system/SystemPage';
import { ProvidersPage } from '../pages/providers/ProvidersPage';
import { AuthFilesPage } from '../pages/auth-files/AuthFilesPage';
import { OAuthPage } from '../pages/oauth/OAuthPage';
import { QuotaPage } from '../pages/quota/QuotaPage';
import { InspectionPage } from '../pages/inspection/InspectionPage';

export interface PageRoute {
  /** The hash path, "/dashboard". Sub-paths ("/monitoring/events") match too; the page reads them from useLocation(). */
  path: string;
  /** Title in the sidebar and the header. */
  titleKey: TKey;
  icon: IconName;
  component: ComponentType;
  /** Listed in the sidebar (default true). */
  nav?: boolean;
  /** Shows a "soon" mark in the sidebar while the page is a placeholder. */
  soon?: boolean;
  /** The sidebar section the page is listed under. */
  group: NavGroup;
}

/** Sidebar sections, in order: usage analytics, running CPA, caddy-cpam itself. */
export const NAV_GROUPS = ['usage', 'cpa', 'service'] as const;
export type NavGroup = (typeof NAV_GROUPS)[number];

export const routes: readonly PageRoute[] = [
  { path: '/dashboard', titleKey: 'nav.dashboard', icon: 'dashboard', component: DashboardPage, group: 'usage' },
  { path: '/monitoring', titleKey: 'nav.monitoring', icon: 'monitoring', component: MonitoringPage, group: 'usage' },
  { path: '/pricing', titleKey: 'nav.pricing', icon: 'pricing', component: PricingPage, group: 'usage' },
  { path: '/api-keys', titleKey: 'nav.apiKeys', icon: 'keys', component: ApiKeysPage, group: 'usage' },
  { path: '/import-export', titleKey: 'nav.importExport', icon: 'transfer', component: ImportExportPage, group: 'usage' },
  { path: '/providers', titleKey: 'nav.providers', icon: 'providers', component: ProvidersPage, group: 'cpa' },
  { path: '/auth-files', titleKey: 'nav.authFiles', icon: 'files', component: AuthFilesPage, group: 'cpa' },
  { path: '/oauth', titleKey: 'nav.oauth', icon: 'oauth', component: OAuthPage, group: 'cpa' },
  { path: '/quota', titleKey: 'nav.quota', icon: 'quota', component: QuotaPage, group: 'cpa' },
  { path: '/inspection', titleKey: 'nav.inspection', icon: 'inspect', component: InspectionPage, group: 'cpa' },
  { path: '/config', titleKey: 'nav.config', icon: 'config', component: ConfigPage, group: 'cpa' },
  { path: '/logs', titleKey: 'nav.logs', icon: 'logs', component: LogsPage, group: 'cpa' },
  { path: '/status', titleKey: 'nav.status', icon: 'status', component: StatusPage, group: 'service' },
  { path: '/system', titleKey: 'nav.system', icon: 'system', component: SystemPage, group: 'service' },
];

export const DEFAULT_PATH = '/dashboard';

/** The route for a hash path (see matchPath). */
export function matchRoute(path: string): PageRoute | undefined {
  return matchPath(path, routes);
}
