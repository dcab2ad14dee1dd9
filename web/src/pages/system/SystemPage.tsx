// System: the CPA behind the panel (version, newest release, the models of
// its catalogue), caddy-cpam (version, instance, configuration, database,
// collectors), the panel itself, and clearing the panel's local state.
import { useQuery } from '@tanstack/react-query';
import { useId, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useCpaState } from '../../api/cpaState';
import { useCpaLatestVersion, useServiceInfo, useStatus } from '../../api/queries';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { PageHeader } from '../../components/PageHeader';
import { QueryView } from '../../components/QueryView';
import { STORAGE_KEYS, writeStored } from '../../lib/storage';
import './system.css';
import { mergeCatalog, MODEL_CHANNELS, searchModels, type ModelDefinition } from './logic';

function Rows({ rows }: { rows: [string, ReactNode, string?][] }) {
  return (
    <dl className="dl">
      {rows.map(([label, value, testId]) => (
        <div key={label} className="dl-row">
          <dt>{label}</dt>
          <dd data-testid={testId}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function SystemPage() {
  const { t } = useTranslation();
  return (
    <div data-testid="system-page" className="stack">
      <PageHeader title={t('systemPage.title')} description={t('systemPage.description')} />
      <div className="grid grid-halves">
        <CpaCard />
        <CpamCard />
      </div>
      <ModelsCard />
      <PanelCard />
    </div>
  );
}

function CpaCard() {
  const { t } = useTranslation();
  const cpa = useCpaState();
  const latest = useCpaLatestVersion();
  const latestValue = latest.data?.['latest-version'];
  let latestView: ReactNode = <span className="muted">{t('common.loading')}</span>;
  if (latestValue) {
    latestView = (
      <>
        {latestValue}{' '}
        {cpa.version?.replace(/^v/, '') === latestValue.replace(/^v/, '') ? <Badge tone="ok">{t('systemPage.cpa.upToDate')}</Badge> : null}
      </>
    );
  } else if (latest.error || (latest.data && !latestValue)) {
    latestView = <span className="muted">{t('systemPage.cpa.couldNotCheck')}</span>;
  }
  return (
    <Card title={t('systemPage.cpa.title')}>
      <Rows
        rows={[
          [t('systemPage.cpa.version'), cpa.version ?? '—', 'system-cpa-version'],
          [t('systemPage.cpa.buildDate'), cpa.buildDate ?? '—'],
          [t('systemPage.cpa.latest'), latestView, 'system-cpa-latest'],
        ]}
      />
    </Card>
  );
}

function CpamCard() {
  const { t } = useTranslation();
  const f = useFormat();
  const info = useServiceInfo();
  const status = useStatus();
  return (
    <Card title={t('systemPage.cpam.title')}>
      <QueryView query={info}>
        {(i) => (
          <Rows
            rows={[
              [t('systemPage.cpam.version'), i.version, 'system-cpam-version'],
              [t('systemPage.cpam.instance'), <span className="mono">{i.instanceId}</span>, 'system-instance'],
              [t('systemPage.cpam.startedAt'), f.dateTime(i.startedAt)],
              [t('systemPage.cpam.generation'), f.number(i.configGeneration)],
            ]}
          />
        )}
      </QueryView>
      <QueryView query={status}>
        {(s) => {
          const db = s.database;
          const connected = s.collectors.filter((c) => c.connected).length;
          return (
            <Rows
              rows={[
                [t('systemPage.cpam.dbPath'), db ? <span className="mono">{db.path}</span> : '—'],
                [t('systemPage.cpam.dbSize'), db ? f.bytes(db.fileBytes + db.walBytes) : '—'],
                [t('systemPage.cpam.schema'), db ? f.number(db.schemaVersion) : '—'],
                [
                  t('systemPage.cpam.retention'),
                  db?.retentionSeconds !== undefined ? f.duration(db.retentionSeconds * 1000) : t('common.unknown'),
                ],
                [
                  t('systemPage.cpam.collectors'),
                  t('systemPage.cpam.collectorsSummary', { connected, total: s.collectors.length }),
                  'system-collectors',
                ],
              ]}
            />
          );
        }}
      </QueryView>
    </Card>
  );
}

function ModelsCard() {
  const { t } = useTranslation();
  const api = useApi();
  const id = useId();
  const [search, setSearch] = useState('');
  const models = useQuery({
    queryKey: ['cpa', 'model-definitions'],
    queryFn: async ({ signal }) => {
      const answers = await Promise.allSettled(
        MODEL_CHANNELS.map(async (channel) => {
          const doc = await api.management<{ models?: ModelDefinition[] | null }>('/model-definitions/' + channel, { signal });
          return { channel, models: doc.models ?? [] };
        }),
      );
      const ok = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
      if (ok.length === 0) {
        const first = answers.find((a) => a.status === 'rejected');
        throw first?.reason instanceof Error ? first.reason : new Error('no model catalogue');
      }
      return mergeCatalog(ok);
    },
    staleTime: 10 * 60_000,
  });
  const list = useMemo(() => searchModels(models.data ?? [], search), [models.data, search]);
  return (
    <Card
      title={t('systemPage.models.title')}
      subtitle={t('systemPage.models.subtitle')}
      actions={models.data ? <Badge>{t('systemPage.models.count', { n: models.data.length })}</Badge> : undefined}
    >
      <QueryView query={models}>
        {() => (
          <div className="stack">
            <label className="field" htmlFor={id}>
              <span className="field-label">{t('systemPage.models.search')}</span>
              <input
                id={id}
                className="input"
                type="search"
                value={search}
                data-testid="system-models-search"
                onChange={(e) => setSearch(e.target.value)}
              />
            </label>
            <ul className="system-models" data-testid="system-models">
              {list.map((m) => (
                <li key={m.id} data-testid="system-model" data-id={m.id}>
                  <span className="mono">{m.id}</span>
                  {m.name !== m.id ? <span className="muted"> · {m.name}</span> : null}
                  <span className="faint"> ({m.channels.join(', ')})</span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </QueryView>
    </Card>
  );
}

function PanelCard() {
  const { t } = useTranslation();
  const api = useApi();
  const [open, setOpen] = useState(false);
  const clear = () => {
    for (const key of Object.values(STORAGE_KEYS)) {
      writeStored('local', key, null);
      writeStored('session', key, null);
    }
    window.location.reload();
  };
  return (
    <Card title={t('systemPage.panel.title')}>
      <Rows
        rows={[
          [t('systemPage.panel.version'), __PANEL_VERSION__, 'system-panel-version'],
          [t('systemPage.panel.mode'), api.connection.mode === 'hosted' ? t('systemPage.panel.hosted') : t('systemPage.panel.cpaMode')],
        ]}
      />
      <div className="row">
        <Button variant="danger" data-testid="system-clear-state" onClick={() => setOpen(true)}>
          {t('systemPage.panel.clear')}
        </Button>
      </div>
      <ConfirmDialog
        open={open}
        title={t('systemPage.panel.clearTitle')}
        confirmLabel={t('systemPage.panel.clear')}
        tone="danger"
        onConfirm={clear}
        onClose={() => setOpen(false)}
        confirmTestId="system-clear-confirm"
      >
        <p>{t('systemPage.panel.clearBody')}</p>
      </ConfirmDialog>
    </Card>
  );
}
