// A compact icon-only button for the table's row actions, so the usage
// columns keep their room. The label is its accessible name and tooltip.
import { Icon } from '../../components/Icon';

/** An icon button of a table row; label is its accessible name and tooltip. */
export function RowAction({
  icon,
  label,
  onClick,
  disabled = false,
  danger = false,
  testId,
}: {
  icon: 'edit' | 'download' | 'trash';
  label: string;
  onClick: () => void;
  disabled?: boolean;
  danger?: boolean;
  testId: string;
}) {
  return (
    <button
      type="button"
      className={danger ? 'btn btn-sm btn-ghost af-icon-btn af-icon-danger' : 'btn btn-sm btn-ghost af-icon-btn'}
      title={label}
      aria-label={label}
      disabled={disabled}
      onClick={onClick}
      data-testid={testId}
    >
      <Icon name={icon} size={16} />
    </button>
  );
}
