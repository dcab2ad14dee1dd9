import { ComingSoon } from '../../components/ComingSoon';

// Placeholder: replace this file with the real page.
export function ImportExportPage() {
  return <ComingSoon titleKey="nav.importExport" bodyKey="soon.importExport" />;
}
