import { ComingSoon } from '../../components/ComingSoon';

// Placeholder: replace this file with the real page.
export function ApiKeysPage() {
  return <ComingSoon titleKey="nav.apiKeys" bodyKey="soon.apiKeys" />;
}
