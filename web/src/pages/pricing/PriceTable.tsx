// The effective price table: every listed model with its prices, tiers
// (read-only), source and update time; one row at a time is edited in
// place (or a new model added on top), and stored prices can be deleted.
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { formatDay, formatPerMillion, formatThreshold } from './format';
import { isStored, sourceKey, sourceTone, type PriceForm, type PriceFormErrors, type PriceFormField, type PriceRow } from './logic';
import type { Price, PriceEntry } from './types';

export interface EditState {
  /** The model edited; for a new one, what the name field holds is in form.model. */
  model: string;
  isNew: boolean;
  form: PriceForm;
  errors: PriceFormErrors;
  saving: boolean;
  error: unknown;
  /** Counts refused saves: each one moves the focus to the first field in error. */
  refused: number;
}

const PRICE_FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite'] as const;

function Tiers({ price }: { price: Price }) {
  const { t } = useTranslation();
  const f = useFormat();
  if (price.tiers.length === 0) return null;
  return (
    <details className="pricing-tiers">
      <summary>{t('pricingPage.table.tierCount', { count: price.tiers.length })}</summary>
      <ul>
        {price.tiers.map((tier) => (
          <li key={tier.aboveInputTokens}>
            {t('pricingPage.table.tierLine', {
              above: formatThreshold(tier.aboveInputTokens, f.locale),
              input: tier.input ? formatPerMillion(tier.input, f.locale) : '—',
              output: tier.output ? formatPerMillion(tier.output, f.locale) : '—',
            })}
          </li>
        ))}
      </ul>
    </details>
  );
}

function PriceCell({ value, input, field }: { value: number; input: number; field: (typeof PRICE_FIELDS)[number] }) {
  const { t } = useTranslation();
  const f = useFormat();
  if ((field === 'cacheRead' || field === 'cacheWrite') && value === 0) {
    return (
      <span className="faint" title={t('pricingPage.table.atInputTitle')}>
        {t('pricingPage.table.atInput', { price: formatPerMillion(input, f.locale) })}
      </span>
    );
  }
  return <>{formatPerMillion(value, f.locale)}</>;
}

function SourceBadge({ source }: { source: string }) {
  const { t } = useTranslation();
  const key = sourceKey(source);
  const label = key ? t(`pricingPage.source.${key}`) : source;
  return (
    <Badge tone={sourceTone(source)} title={t('pricingPage.table.sourceTitle', { source: label })}>
      {label}
    </Badge>
  );
}

interface EditorProps {
  edit: EditState;
  entry: PriceEntry | undefined;
  onChange: (field: PriceFormField, value: string) => void;
  onSave: () => void;
  onCancel: () => void;
  columns: number;
}

function FieldError({ id, error }: { id: string; error: string | undefined }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <span id={id} className="pricing-field-error">
      {t(`pricingPage.form.error.${error as 'required'}`)}
    </span>
  );
}

function EditorRow({ edit, entry, onChange, onSave, onCancel, columns }: EditorProps) {
  const { t } = useTranslation();
  const id = useId();
  const row = useRef<HTMLTableRowElement>(null);
  // After a refused save, the first field in error takes the focus.
  useEffect(() => {
    row.current?.querySelector<HTMLInputElement>('input[aria-invalid="true"]')?.focus();
  }, [edit.refused]);

  // Enter in a field saves; Escape anywhere in the editor cancels.
  const onKey = (e: KeyboardEvent) => {
    if (edit.saving) return;
    if (e.key === 'Enter' && e.target instanceof HTMLInputElement) {
      e.preventDefault();
      onSave();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      onCancel();
    }
  };
  const field = (name: PriceFormField, label: string, autoFocus = false) => {
    const err = edit.errors[name];
    return (
      <div className="pricing-field">
        <input
          // The first field takes the focus when the editor opens.
          autoFocus={autoFocus}
          className="input pricing-input"
          type="text"
          inputMode={name === 'model' ? 'text' : 'decimal'}
          autoComplete="off"
          spellCheck={false}
          value={edit.form[name]}
          onChange={(e) => onChange(name, e.target.value)}
          aria-label={label}
          aria-invalid={err ? true : undefined}
          aria-describedby={err ? `${id}-${name}` : undefined}
          placeholder={
            name === 'cacheRead' || name === 'cacheWrite'
              ? t('pricingPage.form.cachePlaceholder')
              : name === 'model'
                ? t('pricingPage.form.modelPlaceholder')
                : '0.00'
          }
          data-testid={`pricing-input-${name}`}
          readOnly={edit.saving}
        />
        <FieldError id={`${id}-${name}`} error={err} />
      </div>
    );
  };
  return (
    <>
      <tr
        ref={row}
        className="pricing-editing"
        onKeyDown={onKey}
        data-testid={edit.isNew ? 'pricing-new-row' : 'pricing-row'}
        data-model={edit.isNew ? undefined : edit.model}
        data-source={entry?.source}
        data-editing="true"
      >
        <td className="cell-main">
          {edit.isNew ? field('model', t('pricingPage.form.model'), true) : <span className="mono">{edit.model}</span>}
          {entry ? <Tiers price={entry} /> : null}
        </td>
        <td>{field('input', t('pricingPage.table.input'), !edit.isNew)}</td>
        <td>{field('output', t('pricingPage.table.output'))}</td>
        <td>{field('cacheRead', t('pricingPage.table.cacheRead'))}</td>
        <td>{field('cacheWrite', t('pricingPage.table.cacheWrite'))}</td>
        <td>
          <Badge tone="info">{t('pricingPage.source.manual')}</Badge>
        </td>
        <td className="faint">—</td>
        <td />
        <td>
          <div className="pricing-actions">
            <Button size="sm" variant="primary" icon="check" onClick={onSave} loading={edit.saving} data-testid="pricing-save">
              {t('pricingPage.form.save')}
            </Button>
            <Button size="sm" onClick={onCancel} disabled={edit.saving} data-testid="pricing-cancel">
              {t('pricingPage.form.cancel')}
            </Button>
          </div>
        </td>
      </tr>
      <tr className="pricing-editing-note" onKeyDown={onKey}>
        <td colSpan={columns}>
          <div className="stack">
            <span className="muted">{edit.isNew ? t('pricingPage.form.hintNew') : t('pricingPage.form.hintEdit')}</span>
            {entry && entry.tiers.length > 0 ? <span className="muted">{t('pricingPage.form.tiersKept')}</span> : null}
            {edit.error ? <ErrorBox error={edit.error} title={t('pricingPage.form.saveFailed')} testId="pricing-save-error" /> : null}
          </div>
        </td>
      </tr>
    </>
  );
}

export interface PriceTableProps {
  rows: PriceRow[];
  totalCount: number;
  requests: ReadonlyMap<string, number>;
  edit: EditState | null;
  prices: Record<string, PriceEntry>;
  onEdit: (model: string) => void;
  onDelete: (model: string) => void;
  onChange: (field: PriceFormField, value: string) => void;
  onSave: () => void;
  onCancel: () => void;
  filters: ReactNode;
}

export function PriceTable({
  rows,
  totalCount,
  requests,
  edit,
  prices,
  onEdit,
  onDelete,
  onChange,
  onSave,
  onCancel,
  filters,
}: PriceTableProps) {
  const { t } = useTranslation();
  const f = useFormat();
  const columns = 9;
  const editing = edit !== null;
  return (
    <div className="stack">
      {filters}
      <div className="table-wrap">
        <table className="table pricing-table">
          <caption className="visually-hidden">{t('pricingPage.table.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('pricingPage.table.model')}</th>
              <th scope="col" className="align-end">
                {t('pricingPage.table.input')}
              </th>
              <th scope="col" className="align-end">
                {t('pricingPage.table.output')}
              </th>
              <th scope="col" className="align-end">
                {t('pricingPage.table.cacheRead')}
              </th>
              <th scope="col" className="align-end">
                {t('pricingPage.table.cacheWrite')}
              </th>
              <th scope="col">{t('pricingPage.table.source')}</th>
              <th scope="col">{t('pricingPage.table.updated')}</th>
              <th scope="col" className="align-end">
                {t('pricingPage.table.requests')}
              </th>
              <th scope="col">
                <span className="visually-hidden">{t('pricingPage.table.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {edit?.isNew ? (
              <EditorRow edit={edit} entry={undefined} onChange={onChange} onSave={onSave} onCancel={onCancel} columns={columns} />
            ) : null}
            {rows.map(({ model, entry }) =>
              edit && !edit.isNew && edit.model === model ? (
                <EditorRow
                  key={model}
                  edit={edit}
                  entry={prices[model]}
                  onChange={onChange}
                  onSave={onSave}
                  onCancel={onCancel}
                  columns={columns}
                />
              ) : (
                <tr key={model} data-testid="pricing-row" data-model={model} data-source={entry.source}>
                  <td className="cell-main">
                    <span className="mono">{model}</span>
                    <Tiers price={entry} />
                  </td>
                  {PRICE_FIELDS.map((field) => (
                    <td key={field} className="align-end">
                      <PriceCell value={entry[field]} input={entry.input} field={field} />
                    </td>
                  ))}
                  <td>
                    <SourceBadge source={entry.source} />
                  </td>
                  <td className="pricing-nowrap">
                    {entry.updatedAt ? (
                      <span title={f.dateTime(entry.updatedAt)}>{formatDay(entry.updatedAt, f.locale, f.timeZone)}</span>
                    ) : (
                      <span className="faint">{t('pricingPage.table.builtIn')}</span>
                    )}
                  </td>
                  <td className="align-end">{requests.has(model) ? f.number(requests.get(model)) : <span className="faint">—</span>}</td>
                  <td>
                    <div className="pricing-actions">
                      <Button
                        size="sm"
                        onClick={() => onEdit(model)}
                        disabled={editing}
                        data-testid="pricing-row-edit"
                        aria-label={t('pricingPage.table.editLabel', { model })}
                      >
                        {t('pricingPage.table.edit')}
                      </Button>
                      {isStored(entry) ? (
                        <Button
                          size="sm"
                          variant="danger"
                          onClick={() => onDelete(model)}
                          disabled={editing}
                          data-testid="pricing-row-delete"
                          aria-label={t('pricingPage.table.deleteLabel', { model })}
                        >
                          {t('pricingPage.table.delete')}
                        </Button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && !edit?.isNew ? (
        <EmptyState title={totalCount === 0 ? t('pricingPage.table.emptyTitle') : t('pricingPage.table.noMatchTitle')}>
          {totalCount === 0 ? t('pricingPage.table.emptyBody') : t('pricingPage.table.noMatchBody')}
        </EmptyState>
      ) : null}
    </div>
  );
}
