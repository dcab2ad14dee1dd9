// A text input with its visible label (and an optional hint under it), the
// form row the auth files page's forms and dialogs are built from.
import type { InputHTMLAttributes } from 'react';

/** Props of LabelledInput: the input's own attributes plus the label, hint and wrapper class. */
export type LabelledInputProps = InputHTMLAttributes<HTMLInputElement> & {
  id: string;
  label: string;
  hint?: string;
  /** The wrapper's class; "field" by default. */
  fieldClassName?: string;
};

/** A labelled input; className styles the input ("input" by default). */
export function LabelledInput({ label, hint, fieldClassName = 'field', className = 'input', ...input }: LabelledInputProps) {
  return (
    <div className={fieldClassName}>
      <label className="field-label" htmlFor={input.id}>
        {label}
      </label>
      <input className={className} {...input} />
      {hint ? <span className="field-hint">{hint}</span> : null}
    </div>
  );
}
