// The add/edit dialogs of the providers page: one for an entry of a key
// section, one for an OpenAI-compatible provider. They hold a draft,
// validate it (logic.ts) and hand the built entry to onSave; CPA's refusal
// is shown inside the dialog.
import { useId, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorBox } from '../../components/ErrorBox';
import {
  dropRow,
  FieldIssue,
  HEADER_ROWS,
  issueFor,
  MODEL_ROWS,
  PairsEditor,
  patchRow,
  RemoveRowButton,
  RowInput,
  RowList,
  TextField,
} from './fields';
import {
  buildCompat,
  buildKeyEntry,
  compatDraftFrom,
  emptyCompatDraft,
  emptyKeyDraft,
  keyDraftFrom,
  maskKey,
  validateCompatDraft,
  validateKeyDraft,
  type CompatDraft,
  type CompatKeyRow,
  type CompatProvider,
  type DraftIssue,
  type KeyDraft,
  type KeyEntry,
  type KeySection,
} from './logic';

/**
 * The state of an editor dialog: the draft, its issues (re-checked on every
 * change once a save was tried), and the save, which validates, builds and
 * hands the result to onSave, keeping CPA's refusal as serverError.
 */
function useDraftEditor<D, E>(initial: () => D, validate: (d: D) => DraftIssue[], build: (d: D) => E, onSave: (e: E) => Promise<void>) {
  const [draft, setDraft] = useState<D>(initial);
  const [issues, setIssues] = useState<DraftIssue[]>([]);
  const [tried, setTried] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);

  const change = (patch: Partial<D>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (tried) setIssues(validate(next));
  };

  const submit = async () => {
    setTried(true);
    const found = validate(draft);
    setIssues(found);
    if (found.length > 0) return;
    setSaving(true);
    setServerError(null);
    try {
      await onSave(build(draft));
    } catch (e) {
      setServerError(e);
      setSaving(false);
    }
  };
  return { draft, change, issues, saving, serverError, submit };
}

/** The dialog around an editor's form, with the form's save state last. */
function EditorDialog({
  title,
  saving,
  onSave,
  onClose,
  issues,
  serverError,
  children,
}: {
  title: string;
  saving: boolean;
  onSave: () => void;
  onClose: () => void;
  issues: DraftIssue[];
  serverError: unknown;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <ConfirmDialog
      open
      wide
      title={title}
      confirmLabel={t('providersPage.editor.save')}
      busy={saving}
      onConfirm={onSave}
      onClose={onClose}
      confirmTestId="providers-editor-save"
      testId="providers-editor"
    >
      <div className="prov-form">
        {children}
        {issues.length > 0 ? (
          <div className="alert alert-warn" role="alert" data-testid="providers-editor-errors">
            {t('providersPage.editor.fixErrors')}
          </div>
        ) : null}
        {serverError ? (
          <ErrorBox error={serverError} title={t('providersPage.editor.saveFailed')} testId="providers-editor-server-error" />
        ) : null}
      </div>
    </ConfirmDialog>
  );
}

export interface KeyEditorProps {
  section: KeySection;
  /** The edited entry; null to add one. */
  original: KeyEntry | null;
  /** The section's other entries. */
  others: KeyEntry[];
  onSave: (entry: KeyEntry) => Promise<void>;
  onClose: () => void;
}

export function KeyEditor({ section, original, others, onSave, onClose }: KeyEditorProps) {
  const { t } = useTranslation();
  const id = useId();
  const { draft, change, issues, saving, serverError, submit } = useDraftEditor<KeyDraft, KeyEntry>(
    () => (original ? keyDraftFrom(original) : emptyKeyDraft()),
    (d) => validateKeyDraft(d, section, others, original),
    (d) => buildKeyEntry(d, section, original),
    onSave,
  );

  const mask = original ? maskKey(original['api-key']) : '';
  return (
    <EditorDialog
      title={
        original
          ? t('providersPage.editor.editTitle', { section: section.label, mask })
          : t('providersPage.editor.addTitle', { section: section.label })
      }
      saving={saving}
      onSave={() => void submit()}
      onClose={onClose}
      issues={issues}
      serverError={serverError}
    >
      <TextField
        id={`${id}-key`}
        label={t('providersPage.fields.apiKey')}
        type="password"
        value={draft.apiKey}
        onChange={(v) => change({ apiKey: v })}
        error={issueFor(issues, 'apiKey')}
        placeholder={original ? t('providersPage.fields.apiKeyKeep', { mask }) : undefined}
        testId="providers-field-api-key"
        autoFocus
      />
      <BaseUrlField
        id={id}
        value={draft.baseUrl}
        onChange={(v) => change({ baseUrl: v })}
        issues={issues}
        placeholder={section.defaultBaseUrl}
        hint={t('providersPage.fields.baseUrlDefault', { url: section.defaultBaseUrl })}
      />
      <div className="prov-form-grid">
        <PrefixField id={id} value={draft.prefix} onChange={(v) => change({ prefix: v })} />
        <TextField
          id={`${id}-proxy`}
          label={t('providersPage.fields.proxyUrl')}
          value={draft.proxyUrl}
          onChange={(v) => change({ proxyUrl: v })}
          error={issueFor(issues, 'proxyUrl')}
          placeholder="socks5://127.0.0.1:1080"
          testId="providers-field-proxy-url"
        />
        <TextField
          id={`${id}-weight`}
          label={t('providersPage.fields.weight')}
          inputMode="numeric"
          value={draft.weight}
          onChange={(v) => change({ weight: v })}
          error={issueFor(issues, 'weight')}
          testId="providers-field-weight"
        />
        {section.priority ? (
          <PriorityField id={id} value={draft.priority} onChange={(v) => change({ priority: v })} issues={issues} />
        ) : null}
      </div>
      {section.models ? (
        <PairsEditor spec={MODEL_ROWS} rows={draft.models} onChange={(models) => change({ models })} issues={issues} />
      ) : null}
      <PairsEditor spec={HEADER_ROWS} rows={draft.headers} onChange={(headers) => change({ headers })} issues={issues} />
      <TextField
        id={`${id}-excluded`}
        label={t('providersPage.fields.excluded')}
        value={draft.excluded}
        onChange={(v) => change({ excluded: v })}
        hint={t('providersPage.fields.excludedHint')}
        testId="providers-field-excluded"
      />
    </EditorDialog>
  );
}

interface SharedFieldProps {
  /** The editor's id stem. */
  id: string;
  value: string;
  onChange: (v: string) => void;
}

/** The upstream base URL field both editors have. */
function BaseUrlField({
  id,
  value,
  onChange,
  issues,
  placeholder,
  hint,
}: SharedFieldProps & { issues: DraftIssue[]; placeholder: string; hint?: string }) {
  const { t } = useTranslation();
  return (
    <TextField
      id={`${id}-base`}
      label={t('providersPage.fields.baseUrl')}
      type="url"
      value={value}
      onChange={onChange}
      error={issueFor(issues, 'baseUrl')}
      placeholder={placeholder}
      hint={hint}
      testId="providers-field-base-url"
    />
  );
}

/** The routing prefix field both editors have. */
function PrefixField({ id, value, onChange }: SharedFieldProps) {
  const { t } = useTranslation();
  return (
    <TextField
      id={`${id}-prefix`}
      label={t('providersPage.fields.prefix')}
      value={value}
      onChange={onChange}
      hint={t('providersPage.fields.prefixHint')}
      testId="providers-field-prefix"
    />
  );
}

/** The priority field both editors have. */
function PriorityField({
  id,
  value,
  onChange,
  issues,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  issues: DraftIssue[];
}) {
  const { t } = useTranslation();
  return (
    <TextField
      id={`${id}-priority`}
      label={t('providersPage.fields.priority')}
      inputMode="numeric"
      value={value}
      onChange={onChange}
      error={issueFor(issues, 'priority')}
      testId="providers-field-priority"
    />
  );
}

export interface CompatEditorProps {
  original: CompatProvider | null;
  others: CompatProvider[];
  onSave: (provider: CompatProvider) => Promise<void>;
  onClose: () => void;
}

export function CompatEditor({ original, others, onSave, onClose }: CompatEditorProps) {
  const { t } = useTranslation();
  const id = useId();
  const { draft, change, issues, saving, serverError, submit } = useDraftEditor<CompatDraft, CompatProvider>(
    () => (original ? compatDraftFrom(original) : emptyCompatDraft()),
    (d) => validateCompatDraft(d, others),
    (d) => buildCompat(d, original),
    onSave,
  );

  return (
    <EditorDialog
      title={original ? t('providersPage.editor.editCompatTitle', { name: original.name }) : t('providersPage.editor.addCompatTitle')}
      saving={saving}
      onSave={() => void submit()}
      onClose={onClose}
      issues={issues}
      serverError={serverError}
    >
      <div className="prov-form-grid">
        <TextField
          id={`${id}-name`}
          label={t('providersPage.fields.name')}
          value={draft.name}
          onChange={(v) => change({ name: v })}
          error={issueFor(issues, 'name')}
          testId="providers-field-name"
          autoFocus
        />
        <PrefixField id={id} value={draft.prefix} onChange={(v) => change({ prefix: v })} />
      </div>
      <BaseUrlField
        id={id}
        value={draft.baseUrl}
        onChange={(v) => change({ baseUrl: v })}
        issues={issues}
        placeholder="https://api.example.com/v1"
      />
      <div className="prov-form-grid">
        <PriorityField id={id} value={draft.priority} onChange={(v) => change({ priority: v })} issues={issues} />
      </div>
      <CompatKeysEditor rows={draft.keys} onChange={(keys) => change({ keys })} issues={issues} />
      <PairsEditor spec={MODEL_ROWS} rows={draft.models} onChange={(models) => change({ models })} issues={issues} />
      <PairsEditor spec={HEADER_ROWS} rows={draft.headers} onChange={(headers) => change({ headers })} issues={issues} />
    </EditorDialog>
  );
}

/** The API keys of an OpenAI-compatible provider; a stored key is never shown. */
function CompatKeysEditor({
  rows,
  onChange,
  issues,
}: {
  rows: CompatKeyRow[];
  onChange: (rows: CompatKeyRow[]) => void;
  issues: DraftIssue[];
}) {
  const { t } = useTranslation();
  const id = useId();
  const set = (i: number, patch: Partial<CompatKeyRow>) => onChange(patchRow(rows, i, patch));
  return (
    <RowList
      legend={t('providersPage.fields.keys')}
      addLabel={t('providersPage.fields.addKey')}
      onAdd={() => onChange([...rows, { original: null, apiKey: '', weight: '', proxyUrl: '' }])}
      addTestId="providers-add-key"
    >
      {rows.map((k, i) => (
        <div key={i} className="prov-key-row" data-testid="providers-key-row">
          <div className="field">
            <RowInput
              id={`${id}-k${i}`}
              label={`${t('providersPage.fields.apiKey')} ${i + 1}`}
              type="password"
              value={k.apiKey}
              placeholder={
                k.original !== null ? t('providersPage.fields.apiKeyKeep', { mask: maskKey(k.original) }) : t('providersPage.fields.apiKey')
              }
              onChange={(v) => set(i, { apiKey: v })}
              invalid={issueFor(issues, `keys.${i}`) !== null}
              testId={`providers-key-api-key-${i}`}
            />
          </div>
          <div className="field">
            <RowInput
              id={`${id}-w${i}`}
              label={`${t('providersPage.fields.weight')} ${i + 1}`}
              inputMode="numeric"
              value={k.weight}
              placeholder={t('providersPage.fields.weight')}
              onChange={(v) => set(i, { weight: v })}
              invalid={issueFor(issues, `keys.${i}.weight`) !== null}
              testId={`providers-key-weight-${i}`}
            />
          </div>
          <div className="field">
            <RowInput
              id={`${id}-p${i}`}
              label={`${t('providersPage.fields.proxyUrl')} ${i + 1}`}
              value={k.proxyUrl}
              placeholder={t('providersPage.fields.proxyUrl')}
              onChange={(v) => set(i, { proxyUrl: v })}
              invalid={issueFor(issues, `keys.${i}.proxyUrl`) !== null}
              testId={`providers-key-proxy-${i}`}
            />
          </div>
          <RemoveRowButton label={t('providersPage.fields.removeKey', { n: i + 1 })} onClick={() => onChange(dropRow(rows, i))} />
          <FieldIssue
            id={`${id}-ke${i}`}
            error={issueFor(issues, `keys.${i}`) ?? issueFor(issues, `keys.${i}.weight`) ?? issueFor(issues, `keys.${i}.proxyUrl`)}
          />
        </div>
      ))}
      <FieldIssue id={`${id}-keys`} error={issueFor(issues, 'keys')} />
    </RowList>
  );
}
