import { ComingSoon } from '../../components/ComingSoon';

// Placeholder: replace this file with the real page.
export function PricingPage() {
  return <ComingSoon titleKey="nav.pricing" bodyKey="soon.pricing" />;
}
