// Upload: several files through a file input or dropped on the drop zone
// (one multipart POST), or pasted JSON with a file name (raw POST). Files
// are checked here first: a .json name and a JSON object.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { Icon } from '../../components/Icon';
import { AUTH_FILES_KEY, uploadFiles, uploadJson } from './api';
import { LabelledInput } from './LabelledInput';
import { checkFileName, checkJson, checkUploads, normalizePastedName, type BatchFailure } from './logic';
import type { Outcome } from './ResultNotice';

export function UploadCard({ onDone }: { onDone: (o: Outcome) => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const qc = useQueryClient();
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [uploading, setUploading] = useState(false);
  const [pasteName, setPasteName] = useState('');
  const [pasteJson, setPasteJson] = useState('');
  const [pasteError, setPasteError] = useState<string | null>(null);
  const [pasting, setPasting] = useState(false);
  const [pasteOpen, setPasteOpen] = useState(false);

  const upload = async (list: readonly File[]) => {
    if (list.length === 0) return;
    setUploading(true);
    try {
      const read = await Promise.all(list.map(async (file) => ({ file, text: await file.text().catch(() => '') })));
      const checks = checkUploads(read.map((r) => ({ name: r.file.name, text: r.text })));
      const clientFailed: BatchFailure[] = [];
      const good: File[] = [];
      read.forEach((r, i) => {
        const problem = checks[i]?.problem ?? null;
        if (problem) clientFailed.push({ name: r.file.name, error: t(`authFilesPage.upload.problem.${problem}`) });
        else good.push(r.file);
      });
      let done: string[] = [];
      const failed = [...clientFailed];
      if (good.length > 0) {
        try {
          const r = await uploadFiles(api, good);
          done = r.done;
          failed.push(...r.failed);
        } catch (e) {
          onDone({ state: 'error', message: t('authFilesPage.upload.failed'), failed: clientFailed, error: e });
          return;
        }
        await qc.invalidateQueries({ queryKey: AUTH_FILES_KEY });
      }
      onDone({
        state: failed.length === 0 ? 'ok' : done.length === 0 ? 'error' : 'partial',
        message: t('authFilesPage.upload.uploaded', { count: done.length }),
        failed,
      });
    } finally {
      setUploading(false);
      if (input.current) input.current.value = '';
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    void upload(Array.from(e.dataTransfer.files));
  };

  const submitPaste = async () => {
    const name = normalizePastedName(pasteName);
    const problem = checkFileName(name) ?? checkJson(pasteJson);
    if (problem) {
      setPasteError(t(`authFilesPage.upload.problem.${problem}`));
      return;
    }
    setPasteError(null);
    setPasting(true);
    try {
      await uploadJson(api, name, pasteJson);
      await qc.invalidateQueries({ queryKey: AUTH_FILES_KEY });
      onDone({ state: 'ok', message: t('authFilesPage.upload.pasted', { name }), failed: [] });
      setPasteName('');
      setPasteJson('');
    } catch (e) {
      onDone({ state: 'error', message: t('authFilesPage.upload.pasteFailed', { name }), failed: [], error: e });
    } finally {
      setPasting(false);
    }
  };

  return (
    <Card title={t('authFilesPage.upload.title')} subtitle={t('authFilesPage.upload.subtitle')} data-testid="authfiles-upload">
      <div className="af-upload">
        <div
          className={dragging ? 'af-drop af-drop-active' : 'af-drop'}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          data-testid="authfiles-dropzone"
        >
          <Icon name="files" size={22} />
          <p>{t('authFilesPage.upload.drop')}</p>
          <input
            ref={input}
            id={`${id}-files`}
            className="visually-hidden"
            type="file"
            multiple
            accept=".json,application/json"
            onChange={(e) => void upload(Array.from(e.target.files ?? []))}
            data-testid="authfiles-upload-input"
          />
          <Button
            variant="primary"
            size="sm"
            icon="files"
            loading={uploading}
            onClick={() => input.current?.click()}
            data-testid="authfiles-upload-pick"
          >
            {t('authFilesPage.upload.pick')}
          </Button>
          <label htmlFor={`${id}-files`} className="visually-hidden">
            {t('authFilesPage.upload.pick')}
          </label>
          <span className="spacer" />
          <Button
            size="sm"
            aria-expanded={pasteOpen}
            aria-controls={pasteOpen ? `${id}-paste` : undefined}
            onClick={() => setPasteOpen(!pasteOpen)}
            data-testid="authfiles-paste-toggle"
          >
            <span aria-hidden="true" className={pasteOpen ? 'af-caret af-caret-open' : 'af-caret'}>
              ▸
            </span>
            {t('authFilesPage.upload.pasteToggle')}
          </Button>
        </div>

        {pasteOpen ? (
          <form
            id={`${id}-paste`}
            className="af-paste"
            onSubmit={(e) => {
              e.preventDefault();
              void submitPaste();
            }}
          >
            <LabelledInput
              id={`${id}-pname`}
              label={t('authFilesPage.upload.pasteName')}
              value={pasteName}
              placeholder="claude-user@example.com.json"
              onChange={(e) => {
                setPasteName(e.target.value);
                setPasteError(null);
              }}
              data-testid="authfiles-paste-name"
            />
            <div className="field af-paste-json">
              <label className="field-label" htmlFor={`${id}-pjson`}>
                {t('authFilesPage.upload.pasteJson')}
              </label>
              <textarea
                id={`${id}-pjson`}
                className="input af-textarea mono"
                rows={4}
                value={pasteJson}
                spellCheck={false}
                placeholder='{"type": "claude", "email": "…"}'
                onChange={(e) => {
                  setPasteJson(e.target.value);
                  setPasteError(null);
                }}
                aria-invalid={pasteError ? true : undefined}
                aria-describedby={pasteError ? `${id}-perr` : undefined}
                data-testid="authfiles-paste-json"
              />
            </div>
            {pasteError ? (
              <span id={`${id}-perr`} className="af-error" role="alert" data-testid="authfiles-paste-error">
                {pasteError}
              </span>
            ) : null}
            <div className="row af-paste-actions">
              <Button type="submit" loading={pasting} data-testid="authfiles-paste-submit">
                {t('authFilesPage.upload.pasteSubmit')}
              </Button>
            </div>
          </form>
        ) : null}
      </div>
    </Card>
  );
}
