// The form pieces the provider dialogs share: a labelled text field, the
// inputs of a row list (screen-reader labels only), the row list itself
// with its add and remove buttons, and the header / model-alias pair lists.
import { useId, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../../components/Button';
import type { TKey } from '../../i18n';
import type { DraftIssue, FieldError, HeaderRow, ModelRow } from './logic';

/** The error of the draft's issue on field, if any. */
export function issueFor(issues: DraftIssue[], field: string): FieldError | null {
  return issues.find((i) => i.field === field)?.error ?? null;
}

/** The message of a field's issue, under the field. */
export function FieldIssue({ id, error }: { id: string; error: FieldError | null }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <span id={id} className="prov-field-error" role="alert" data-testid="providers-field-error" data-error={error}>
      {t(`providersPage.errors.${error}`)}
    </span>
  );
}

interface TextFieldProps {
  id: string;
  label: ReactNode;
  value: string;
  onChange: (v: string) => void;
  error?: FieldError | null;
  hint?: ReactNode;
  testId: string;
  type?: 'text' | 'password' | 'url';
  inputMode?: 'numeric' | 'text';
  placeholder?: string;
  autoFocus?: boolean;
}

/** A labelled text input with an optional hint and its issue underneath. */
export function TextField({
  id,
  label,
  value,
  onChange,
  error = null,
  hint,
  testId,
  type = 'text',
  inputMode,
  placeholder,
  autoFocus,
}: TextFieldProps) {
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const described = [error ? errId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className="input"
        type={type}
        inputMode={inputMode}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
        autoComplete="off"
        spellCheck={false}
        autoFocus={autoFocus}
        data-testid={testId}
      />
      {hint ? (
        <span id={hintId} className="field-hint">
          {hint}
        </span>
      ) : null}
      <FieldIssue id={errId} error={error} />
    </div>
  );
}

interface RowInputProps {
  id: string;
  /** The accessible name (the label is visually hidden). */
  label: string;
  value: string;
  onChange: (v: string) => void;
  invalid?: boolean;
  testId: string;
  placeholder: string;
  type?: 'password';
  inputMode?: 'numeric';
}

/** One input of a row list, labelled for screen readers only. */
export function RowInput({ id, label, value, onChange, invalid, testId, placeholder, type, inputMode }: RowInputProps) {
  return (
    <>
      <label className="visually-hidden" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className="input"
        type={type}
        inputMode={inputMode}
        value={value}
        placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={invalid ? true : undefined}
        autoComplete="off"
        data-testid={testId}
      />
    </>
  );
}

/** The icon button that removes one row of a row list. */
export function RemoveRowButton({ label, onClick }: { label: string; onClick: () => void }) {
  return <Button size="sm" variant="ghost" icon="close" aria-label={label} onClick={onClick} />;
}

/** A fieldset of editable rows with an "add" button under them. */
export function RowList({
  legend,
  children,
  addLabel,
  onAdd,
  addTestId,
}: {
  legend: string;
  children: ReactNode;
  addLabel: string;
  onAdd: () => void;
  addTestId: string;
}) {
  return (
    <fieldset className="prov-fieldset">
      <legend className="field-label">{legend}</legend>
      {children}
      <div>
        <Button size="sm" onClick={onAdd} data-testid={addTestId}>
          {addLabel}
        </Button>
      </div>
    </fieldset>
  );
}

/** Replaces row i of rows by patching it. */
export function patchRow<R>(rows: R[], i: number, patch: Partial<R>): R[] {
  return rows.map((r, j) => (j === i ? { ...r, ...patch } : r));
}

/** rows without row i. */
export function dropRow<R>(rows: R[], i: number): R[] {
  return rows.filter((_, j) => j !== i);
}

/** What tells one kind of name / second-value row list from another. */
interface PairSpec<R extends { name: string }> {
  /** The draft field, also the prefix of the rows' issues. */
  list: 'headers' | 'models';
  /** The test-id stem of the rows and the add button. */
  stem: 'header' | 'model';
  /** The second column's field (test-id suffix). */
  second: Exclude<keyof R & string, 'name'>;
  legend: TKey;
  nameLabel: TKey;
  secondLabel: TKey;
  removeLabel: TKey;
  addLabel: TKey;
  empty: R;
}

/** The extra headers CPA sends upstream, as name / value rows. */
export const HEADER_ROWS: PairSpec<HeaderRow> = {
  list: 'headers',
  stem: 'header',
  second: 'value',
  legend: 'providersPage.fields.headers',
  nameLabel: 'providersPage.fields.headerName',
  secondLabel: 'providersPage.fields.headerValue',
  removeLabel: 'providersPage.fields.removeHeader',
  addLabel: 'providersPage.fields.addHeader',
  empty: { name: '', value: '' },
};

/** The models a provider offers, as upstream name / alias rows. */
export const MODEL_ROWS: PairSpec<ModelRow> = {
  list: 'models',
  stem: 'model',
  second: 'alias',
  legend: 'providersPage.fields.models',
  nameLabel: 'providersPage.fields.modelName',
  secondLabel: 'providersPage.fields.modelAlias',
  removeLabel: 'providersPage.fields.removeModel',
  addLabel: 'providersPage.fields.addModel',
  empty: { name: '', alias: '' },
};

/** An editable list of two-column rows (headers or model aliases), after spec. */
export function PairsEditor<R extends { name: string }>({
  spec,
  rows,
  onChange,
  issues,
}: {
  spec: PairSpec<R>;
  rows: R[];
  onChange: (rows: R[]) => void;
  issues: DraftIssue[];
}) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <RowList
      legend={t(spec.legend)}
      addLabel={t(spec.addLabel)}
      onAdd={() => onChange([...rows, spec.empty])}
      addTestId={`providers-add-${spec.stem}`}
    >
      {rows.map((r, i) => (
        <div key={i} className="prov-pair">
          <RowInput
            id={`${id}-n${i}`}
            label={`${t(spec.nameLabel)} ${i + 1}`}
            value={r.name}
            placeholder={t(spec.nameLabel)}
            onChange={(v) => onChange(patchRow(rows, i, { name: v } as Partial<R>))}
            invalid={issueFor(issues, `${spec.list}.${i}`) !== null}
            testId={`providers-${spec.stem}-name-${i}`}
          />
          <RowInput
            id={`${id}-s${i}`}
            label={`${t(spec.secondLabel)} ${i + 1}`}
            value={String(r[spec.second])}
            placeholder={t(spec.secondLabel)}
            onChange={(v) => onChange(patchRow(rows, i, { [spec.second]: v } as Partial<R>))}
            testId={`providers-${spec.stem}-${spec.second}-${i}`}
          />
          <RemoveRowButton label={t(spec.removeLabel, { n: i + 1 })} onClick={() => onChange(dropRow(rows, i))} />
          <FieldIssue id={`${id}-e${i}`} error={issueFor(issues, `${spec.list}.${i}`)} />
        </div>
      ))}
    </RowList>
  );
}
