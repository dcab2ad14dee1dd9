// A line diff: changed lines with their old and new line numbers, a few
// unchanged lines of context, longer unchanged runs folded (click to show).
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { diffRows, type DiffLine } from './logic';

export function DiffView({ lines, testId }: { lines: readonly DiffLine[]; testId: string }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState<ReadonlySet<number>>(() => new Set());
  const rows = useMemo(() => diffRows(lines, 3), [lines]);
  return (
    <div className="cfg-diff-wrap">
      <table className="cfg-diff" data-testid={testId}>
        <thead className="visually-hidden">
          <tr>
            <th scope="col">{t('configPage.yaml.diffOld')}</th>
            <th scope="col">{t('configPage.yaml.diffNew')}</th>
            <th scope="col">{t('configPage.yaml.diffChange')}</th>
            <th scope="col">{t('configPage.yaml.diffText')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.flatMap((row) => {
            if (row.type === 'line') return [<Row key={`l${row.line.oldNo}-${row.line.newNo}`} line={row.line} />];
            if (open.has(row.start)) {
              return lines.slice(row.start, row.start + row.count).map((l) => <Row key={`l${l.oldNo}-${l.newNo}`} line={l} />);
            }
            return [
              <tr key={`g${row.start}`} className="cfg-diff-gap" data-kind="gap">
                <td colSpan={4}>
                  <button type="button" className="cfg-diff-expand" onClick={() => setOpen((s) => new Set(s).add(row.start))}>
                    {t('configPage.yaml.unchangedLines', { count: row.count })}
                  </button>
                </td>
              </tr>,
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}

function Row({ line }: { line: DiffLine }) {
  const { t } = useTranslation();
  const sign = line.kind === 'add' ? '+' : line.kind === 'del' ? '−' : ' ';
  return (
    <tr className={`cfg-diff-row is-${line.kind}`} data-kind={line.kind} data-testid="config-yaml-diff-line">
      <td className="cfg-diff-no">{line.oldNo ?? ''}</td>
      <td className="cfg-diff-no">{line.newNo ?? ''}</td>
      <td className="cfg-diff-sign">
        <span aria-hidden="true">{sign}</span>
        <span className="visually-hidden">{t(`configPage.yaml.kind.${line.kind}`)}</span>
      </td>
      <td className="cfg-diff-text">{line.text}</td>
    </tr>
  );
}
