// Edits an auth file's scheduling fields through PATCH /auth-files/fields,
// sending only what changed. proxy_url and headers are read from the file
// itself first, since CPA's list does not report them.
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorBox } from '../../components/ErrorBox';
import { patchFields, readFileJson } from './api';
import { LabelledInput } from './LabelledInput';
import { draftOf, fieldPatch, withFileFields, type AuthFileEntry, type FieldDraft, type FieldProblem } from './logic';

export function FieldsDialog({ entry, onClose, onSaved }: { entry: AuthFileEntry; onClose: () => void; onSaved: (name: string) => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const id = useId();
  const [base, setBase] = useState<AuthFileEntry>(entry);
  const [draft, setDraft] = useState<FieldDraft>(() => draftOf(entry));
  const [loaded, setLoaded] = useState(false);
  const [problem, setProblem] = useState<FieldProblem | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    readFileJson(api, entry.name, ctrl.signal)
      .then((raw) => {
        const merged = withFileFields(entry, raw);
        setBase(merged);
        setDraft((d) => ({ ...d, proxyUrl: merged.proxy_url ?? '', headers: draftOf(merged).headers }));
      })
      .catch(() => {
        // The list's values are enough to edit the other fields.
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoaded(true);
      });
    return () => ctrl.abort();
  }, [api, entry]);

  const set = (patch: Partial<FieldDraft>) => {
    setDraft({ ...draft, ...patch });
    setProblem(null);
  };

  const save = async () => {
    const r = fieldPatch(base, draft);
    if (!r.ok) {
      setProblem(r.problem);
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await patchFields(api, entry.name, r.patch);
      onSaved(entry.name);
    } catch (e) {
      setError(e);
      setSaving(false);
    }
  };

  return (
    <ConfirmDialog
      open
      wide
      title={t('authFilesPage.fields.title', { name: entry.name })}
      confirmLabel={t('authFilesPage.fields.save')}
      busy={saving}
      confirmDisabled={!loaded}
      onConfirm={() => void save()}
      onClose={onClose}
      confirmTestId="authfiles-fields-save"
      testId="authfiles-fields-dialog"
    >
      <div className="af-fields-grid">
        <LabelledInput
          id={`${id}-prio`}
          label={t('authFilesPage.fields.priority')}
          hint={t('authFilesPage.fields.priorityHint')}
          inputMode="numeric"
          value={draft.priority}
          onChange={(e) => set({ priority: e.target.value })}
          data-testid="authfiles-field-priority"
        />
        <LabelledInput
          id={`${id}-weight`}
          label={t('authFilesPage.fields.weight')}
          hint={t('authFilesPage.fields.weightHint')}
          inputMode="numeric"
          value={draft.weight}
          onChange={(e) => set({ weight: e.target.value })}
          data-testid="authfiles-field-weight"
        />
      </div>
      <LabelledInput
        id={`${id}-note`}
        label={t('authFilesPage.fields.note')}
        value={draft.note}
        onChange={(e) => set({ note: e.target.value })}
        data-testid="authfiles-field-note"
      />
      <LabelledInput
        id={`${id}-proxy`}
        label={t('authFilesPage.fields.proxyUrl')}
        className="input mono"
        value={draft.proxyUrl}
        placeholder="socks5://127.0.0.1:1080"
        onChange={(e) => set({ proxyUrl: e.target.value })}
        disabled={!loaded}
        data-testid="authfiles-field-proxy"
      />
      <fieldset className="af-headers">
        <legend className="field-label">{t('authFilesPage.fields.headers')}</legend>
        {draft.headers.length === 0 ? <span className="muted">{t('authFilesPage.fields.noHeaders')}</span> : null}
        {draft.headers.map((h, i) => {
          const patch = (p: Partial<(typeof draft.headers)[number]>) =>
            set({ headers: draft.headers.map((x, j) => (j === i ? { ...x, ...p } : x)) });
          return (
            <div className="af-header-row" key={i}>
              <input
                className="input mono"
                aria-label={t('authFilesPage.fields.headerName', { n: i + 1 })}
                placeholder={t('authFilesPage.fields.headerNamePlaceholder')}
                value={h.key}
                onChange={(e) => patch({ key: e.target.value })}
                data-testid="authfiles-field-header-key"
              />
              <input
                className="input mono"
                aria-label={t('authFilesPage.fields.headerValue', { n: i + 1 })}
                placeholder={t('authFilesPage.fields.headerValuePlaceholder')}
                value={h.value}
                onChange={(e) => patch({ value: e.target.value })}
                data-testid="authfiles-field-header-value"
              />
              <Button
                size="sm"
                variant="ghost"
                icon="close"
                aria-label={t('authFilesPage.fields.removeHeader', { n: i + 1 })}
                onClick={() => set({ headers: draft.headers.filter((_, j) => j !== i) })}
                data-testid="authfiles-field-header-remove"
              />
            </div>
          );
        })}
        <div>
          <Button
            size="sm"
            onClick={() => set({ headers: [...draft.headers, { key: '', value: '' }] })}
            disabled={!loaded}
            data-testid="authfiles-field-header-add"
          >
            {t('authFilesPage.fields.addHeader')}
          </Button>
        </div>
      </fieldset>
      <label className="row">
        <input
          type="checkbox"
          checked={draft.websockets}
          onChange={(e) => set({ websockets: e.target.checked })}
          data-testid="authfiles-field-websockets"
        />
        {t('authFilesPage.fields.websockets')}
      </label>
      {problem ? (
        <span className="af-error" role="alert" data-testid="authfiles-fields-problem">
          {t(`authFilesPage.fields.problem.${problem}`)}
        </span>
      ) : null}
      {error ? <ErrorBox error={error} title={t('authFilesPage.fields.failed')} /> : null}
    </ConfirmDialog>
  );
}
