// A compact icon-only button for the table's row actions, so the usage
// columns keep their room. The label is its accessible name and tooltip.

const PATHS = {
  edit: 'M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4',
  download: 'M12 4v11M7.5 10.5 12 15l4.5-4.5M5 19h14',
  trash: 'M4 7h16M9 7V4h6v3M6.5 7l1 13h9l1-13M10 11v5M14 11v5',
} as const;

export function RowAction({
  icon,
  label,
  onClick,
  disabled = false,
  danger = false,
  testId,
}: {
  icon: keyof typeof PATHS;
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
      <svg
        width={16}
        height={16}
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        strokeWidth={1.8}
        strokeLinecap="round"
        strokeLinejoin="round"
        aria-hidden="true"
        focusable="false"
      >
        <path d={PATHS[icon]} />
      </svg>
    </button>
  );
}
