import { ComingSoon } from '../../components/ComingSoon';

// Placeholder: replace this file with the real page.
export function MonitoringPage() {
  return <ComingSoon titleKey="nav.monitoring" bodyKey="soon.monitoring" />;
}
