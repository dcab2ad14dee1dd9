// The add/edit dialogs of the providers page: one for an entry of a key
// section, one for an OpenAI-compatible provider. They hold a draft,
// validate it (logic.ts) and hand the built entry to onSave; CPA's refusal
// is shown inside the dialog.
import { useId, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorBox } from '../../components/ErrorBox';
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
  type CompatProvider,
  type DraftIssue,
  type FieldError,
  type HeaderRow,
  type KeyDraft,
  type KeyEntry,
  type KeySection,
  type ModelRow,
} from './logic';

function issueFor(issues: DraftIssue[], field: string): FieldError | null {
  return issues.find((i) => i.field === field)?.error ?? null;
}

/** The message of a field's issue, under the field. */
function FieldIssue({ id, error }: { id: string; error: FieldError | null }) {
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

function TextField({
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

function HeadersEditor({ rows, onChange, issues }: { rows: HeaderRow[]; onChange: (rows: HeaderRow[]) => void; issues: DraftIssue[] }) {
  const { t } = useTranslation();
  const id = useId();
  const set = (i: number, patch: Partial<HeaderRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="prov-fieldset">
      <legend className="field-label">{t('providersPage.fields.headers')}</legend>
      {rows.map((r, i) => (
        <div key={i} className="prov-pair">
          <label className="visually-hidden" htmlFor={`${id}-n${i}`}>
            {t('providersPage.fields.headerName')} {i + 1}
          </label>
          <input
            id={`${id}-n${i}`}
            className="input"
            value={r.name}
            placeholder={t('providersPage.fields.headerName')}
            onChange={(e) => set(i, { name: e.target.value })}
            aria-invalid={issueFor(issues, `headers.${i}`) ? true : undefined}
            autoComplete="off"
            data-testid={`providers-header-name-${i}`}
          />
          <label className="visually-hidden" htmlFor={`${id}-v${i}`}>
            {t('providersPage.fields.headerValue')} {i + 1}
          </label>
          <input
            id={`${id}-v${i}`}
            className="input"
            value={r.value}
            placeholder={t('providersPage.fields.headerValue')}
            onChange={(e) => set(i, { value: e.target.value })}
            autoComplete="off"
            data-testid={`providers-header-value-${i}`}
          />
          <Button
            size="sm"
            variant="ghost"
            icon="close"
            aria-label={t('providersPage.fields.removeHeader', { n: i + 1 })}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          />
          <FieldIssue id={`${id}-e${i}`} error={issueFor(issues, `headers.${i}`)} />
        </div>
      ))}
      <div>
        <Button size="sm" onClick={() => onChange([...rows, { name: '', value: '' }])} data-testid="providers-add-header">
          {t('providersPage.fields.addHeader')}
        </Button>
      </div>
    </fieldset>
  );
}

function ModelsEditor({ rows, onChange, issues }: { rows: ModelRow[]; onChange: (rows: ModelRow[]) => void; issues: DraftIssue[] }) {
  const { t } = useTranslation();
  const id = useId();
  const set = (i: number, patch: Partial<ModelRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="prov-fieldset">
      <legend className="field-label">{t('providersPage.fields.models')}</legend>
      {rows.map((r, i) => (
        <div key={i} className="prov-pair">
          <label className="visually-hidden" htmlFor={`${id}-n${i}`}>
            {t('providersPage.fields.modelName')} {i + 1}
          </label>
          <input
            id={`${id}-n${i}`}
            className="input"
            value={r.name}
            placeholder={t('providersPage.fields.modelName')}
            onChange={(e) => set(i, { name: e.target.value })}
            aria-invalid={issueFor(issues, `models.${i}`) ? true : undefined}
            autoComplete="off"
            data-testid={`providers-model-name-${i}`}
          />
          <label className="visually-hidden" htmlFor={`${id}-a${i}`}>
            {t('providersPage.fields.modelAlias')} {i + 1}
          </label>
          <input
            id={`${id}-a${i}`}
            className="input"
            value={r.alias}
            placeholder={t('providersPage.fields.modelAlias')}
            onChange={(e) => set(i, { alias: e.target.value })}
            autoComplete="off"
            data-testid={`providers-model-alias-${i}`}
          />
          <Button
            size="sm"
            variant="ghost"
            icon="close"
            aria-label={t('providersPage.fields.removeModel', { n: i + 1 })}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          />
          <FieldIssue id={`${id}-e${i}`} error={issueFor(issues, `models.${i}`)} />
        </div>
      ))}
      <div>
        <Button size="sm" onClick={() => onChange([...rows, { name: '', alias: '' }])} data-testid="providers-add-model">
          {t('providersPage.fields.addModel')}
        </Button>
      </div>
    </fieldset>
  );
}

function SaveState({ issues, serverError }: { issues: DraftIssue[]; serverError: unknown }) {
  const { t } = useTranslation();
  return (
    <>
      {issues.length > 0 ? (
        <div className="alert alert-warn" role="alert" data-testid="providers-editor-errors">
          {t('providersPage.editor.fixErrors')}
        </div>
      ) : null}
      {serverError ? (
        <ErrorBox error={serverError} title={t('providersPage.editor.saveFailed')} testId="providers-editor-server-error" />
      ) : null}
    </>
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
  const [draft, setDraft] = useState<KeyDraft>(() => (original ? keyDraftFrom(original) : emptyKeyDraft()));
  const [issues, setIssues] = useState<DraftIssue[]>([]);
  const [tried, setTried] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);

  const change = (patch: Partial<KeyDraft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (tried) setIssues(validateKeyDraft(next, section, others, original));
  };

  const submit = async () => {
    setTried(true);
    const found = validateKeyDraft(draft, section, others, original);
    setIssues(found);
    if (found.length > 0) return;
    setSaving(true);
    setServerError(null);
    try {
      await onSave(buildKeyEntry(draft, section, original));
    } catch (e) {
      setServerError(e);
      setSaving(false);
    }
  };

  const mask = original ? maskKey(original['api-key']) : '';
  return (
    <ConfirmDialog
      open
      wide
      title={
        original
          ? t('providersPage.editor.editTitle', { section: section.label, mask })
          : t('providersPage.editor.addTitle', { section: section.label })
      }
      confirmLabel={t('providersPage.editor.save')}
      busy={saving}
      onConfirm={() => void submit()}
      onClose={onClose}
      confirmTestId="providers-editor-save"
      testId="providers-editor"
    >
      <div className="prov-form">
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
        <TextField
          id={`${id}-base`}
          label={t('providersPage.fields.baseUrl')}
          type="url"
          value={draft.baseUrl}
          onChange={(v) => change({ baseUrl: v })}
          error={issueFor(issues, 'baseUrl')}
          placeholder={section.defaultBaseUrl}
          hint={t('providersPage.fields.baseUrlDefault', { url: section.defaultBaseUrl })}
          testId="providers-field-base-url"
        />
        <div className="prov-form-grid">
          <TextField
            id={`${id}-prefix`}
            label={t('providersPage.fields.prefix')}
            value={draft.prefix}
            onChange={(v) => change({ prefix: v })}
            hint={t('providersPage.fields.prefixHint')}
            testId="providers-field-prefix"
          />
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
            <TextField
              id={`${id}-priority`}
              label={t('providersPage.fields.priority')}
              inputMode="numeric"
              value={draft.priority}
              onChange={(v) => change({ priority: v })}
              error={issueFor(issues, 'priority')}
              testId="providers-field-priority"
            />
          ) : null}
        </div>
        {section.models ? <ModelsEditor rows={draft.models} onChange={(models) => change({ models })} issues={issues} /> : null}
        <HeadersEditor rows={draft.headers} onChange={(headers) => change({ headers })} issues={issues} />
        <TextField
          id={`${id}-excluded`}
          label={t('providersPage.fields.excluded')}
          value={draft.excluded}
          onChange={(v) => change({ excluded: v })}
          hint={t('providersPage.fields.excludedHint')}
          testId="providers-field-excluded"
        />
        <SaveState issues={issues} serverError={serverError} />
      </div>
    </ConfirmDialog>
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
  const [draft, setDraft] = useState<CompatDraft>(() => (original ? compatDraftFrom(original) : emptyCompatDraft()));
  const [issues, setIssues] = useState<DraftIssue[]>([]);
  const [tried, setTried] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);

  const change = (patch: Partial<CompatDraft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (tried) setIssues(validateCompatDraft(next, others));
  };
  const setKey = (i: number, patch: Partial<CompatDraft['keys'][number]>) =>
    change({ keys: draft.keys.map((k, j) => (j === i ? { ...k, ...patch } : k)) });

  const submit = async () => {
    setTried(true);
    const found = validateCompatDraft(draft, others);
    setIssues(found);
    if (found.length > 0) return;
    setSaving(true);
    setServerError(null);
    try {
      await onSave(buildCompat(draft, original));
    } catch (e) {
      setServerError(e);
      setSaving(false);
    }
  };

  return (
    <ConfirmDialog
      open
      wide
      title={original ? t('providersPage.editor.editCompatTitle', { name: original.name }) : t('providersPage.editor.addCompatTitle')}
      confirmLabel={t('providersPage.editor.save')}
      busy={saving}
      onConfirm={() => void submit()}
      onClose={onClose}
      confirmTestId="providers-editor-save"
      testId="providers-editor"
    >
      <div className="prov-form">
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
          <TextField
            id={`${id}-prefix`}
            label={t('providersPage.fields.prefix')}
            value={draft.prefix}
            onChange={(v) => change({ prefix: v })}
            hint={t('providersPage.fields.prefixHint')}
            testId="providers-field-prefix"
          />
        </div>
        <TextField
          id={`${id}-base`}
          label={t('providersPage.fields.baseUrl')}
          type="url"
          value={draft.baseUrl}
          onChange={(v) => change({ baseUrl: v })}
          error={issueFor(issues, 'baseUrl')}
          placeholder="https://api.example.com/v1"
          testId="providers-field-base-url"
        />
        <div className="prov-form-grid">
          <TextField
            id={`${id}-priority`}
            label={t('providersPage.fields.priority')}
            inputMode="numeric"
            value={draft.priority}
            onChange={(v) => change({ priority: v })}
            error={issueFor(issues, 'priority')}
            testId="providers-field-priority"
          />
        </div>
        <fieldset className="prov-fieldset">
          <legend className="field-label">{t('providersPage.fields.keys')}</legend>
          {draft.keys.map((k, i) => (
            <div key={i} className="prov-key-row" data-testid="providers-key-row">
              <div className="field">
                <label className="visually-hidden" htmlFor={`${id}-k${i}`}>
                  {t('providersPage.fields.apiKey')} {i + 1}
                </label>
                <input
                  id={`${id}-k${i}`}
                  className="input"
                  type="password"
                  value={k.apiKey}
                  placeholder={
                    k.original !== null
                      ? t('providersPage.fields.apiKeyKeep', { mask: maskKey(k.original) })
                      : t('providersPage.fields.apiKey')
                  }
                  onChange={(e) => setKey(i, { apiKey: e.target.value })}
                  aria-invalid={issueFor(issues, `keys.${i}`) ? true : undefined}
                  autoComplete="off"
                  data-testid={`providers-key-api-key-${i}`}
                />
              </div>
              <div className="field">
                <label className="visually-hidden" htmlFor={`${id}-w${i}`}>
                  {t('providersPage.fields.weight')} {i + 1}
                </label>
                <input
                  id={`${id}-w${i}`}
                  className="input"
                  inputMode="numeric"
                  value={k.weight}
                  placeholder={t('providersPage.fields.weight')}
                  onChange={(e) => setKey(i, { weight: e.target.value })}
                  aria-invalid={issueFor(issues, `keys.${i}.weight`) ? true : undefined}
                  autoComplete="off"
                  data-testid={`providers-key-weight-${i}`}
                />
              </div>
              <div className="field">
                <label className="visually-hidden" htmlFor={`${id}-p${i}`}>
                  {t('providersPage.fields.proxyUrl')} {i + 1}
                </label>
                <input
                  id={`${id}-p${i}`}
                  className="input"
                  value={k.proxyUrl}
                  placeholder={t('providersPage.fields.proxyUrl')}
                  onChange={(e) => setKey(i, { proxyUrl: e.target.value })}
                  aria-invalid={issueFor(issues, `keys.${i}.proxyUrl`) ? true : undefined}
                  autoComplete="off"
                  data-testid={`providers-key-proxy-${i}`}
                />
              </div>
              <Button
                size="sm"
                variant="ghost"
                icon="close"
                aria-label={t('providersPage.fields.removeKey', { n: i + 1 })}
                onClick={() => change({ keys: draft.keys.filter((_, j) => j !== i) })}
              />
              <FieldIssue
                id={`${id}-ke${i}`}
                error={issueFor(issues, `keys.${i}`) ?? issueFor(issues, `keys.${i}.weight`) ?? issueFor(issues, `keys.${i}.proxyUrl`)}
              />
            </div>
          ))}
          <FieldIssue id={`${id}-keys`} error={issueFor(issues, 'keys')} />
          <div>
            <Button
              size="sm"

              onClick={() => change({ keys: [...draft.keys, { original: null, apiKey: '', weight: '', proxyUrl: '' }] })}
              data-testid="providers-add-key"
            >
              {t('providersPage.fields.addKey')}
            </Button>
          </div>
        </fieldset>
        <ModelsEditor rows={draft.models} onChange={(models) => change({ models })} issues={issues} />
        <HeadersEditor rows={draft.headers} onChange={(headers) => change({ headers })} issues={issues} />
        <SaveState issues={issues} serverError={serverError} />
      </div>
    </ConfirmDialog>
  );
}
