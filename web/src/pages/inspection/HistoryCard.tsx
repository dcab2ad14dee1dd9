// Past inspection runs (newest first) and, opened, one run's results with
// the outcomes of the actions applied.
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { QueryView } from '../../components/QueryView';
import { useInspectionHistory, useInspectionRun } from './api';
import { ACTIONS, type RunDetail, type RunSummary } from './logic';
import { AccountCell, ActionBadge, Outcome, ResultHead, SuggestionCell, WindowsCell } from './ResultParts';

function appliedCount(applied: RunSummary['applied']): number {
  if (typeof applied === 'number') return applied;
  return applied ? 1 : 0;
}

export function HistoryCard({ openId, onOpen }: { openId: string | null; onOpen: (id: string | null) => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const history = useInspectionHistory();
  return (
    <>
      <Card
        title={t('inspectionPage.history.title')}
        actions={
          <Button size="sm" icon="refresh" onClick={() => void history.refetch()} data-testid="inspection-history-refresh">
            {t('inspectionPage.history.refresh')}
          </Button>
        }
        flush
        data-testid="inspection-history"
      >
        <QueryView query={history}>
          {(doc) =>
            doc.items.length === 0 ? (
              <EmptyState title={t('inspectionPage.history.emptyTitle')}>{t('inspectionPage.history.emptyBody')}</EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table">
                  <caption className="visually-hidden">{t('inspectionPage.history.title')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('inspectionPage.history.started')}</th>
                      <th scope="col" className="align-end">
                        {t('inspectionPage.history.total')}
                      </th>
                      <th scope="col">{t('inspectionPage.history.suggestions')}</th>
                      <th scope="col">{t('inspectionPage.history.applied')}</th>
                      <th scope="col">
                        <span className="visually-hidden">{t('inspectionPage.history.open')}</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {doc.items.map((item) => {
                      const rid = String(item.id);
                      const applied = appliedCount(item.applied);
                      return (
                        <tr
                          key={rid}
                          data-testid="inspection-history-item"
                          data-id={rid}
                          aria-current={openId === rid ? 'true' : undefined}
                        >
                          <td title={f.dateTime(item.started_at)}>
                            {f.dateTime(item.started_at)}
                            <div className="faint inspection-meta">{f.relative(item.started_at)}</div>
                          </td>
                          <td className="align-end num">{f.number(item.total)}</td>
                          <td>
                            <span className="inspection-counts">
                              {ACTIONS.filter((a) => (item.counts[a] ?? 0) > 0).map((a) => (
                                <span key={a}>
                                  <ActionBadge action={a} /> {item.counts[a]}
                                </span>
                              ))}
                            </span>
                          </td>
                          <td data-testid="inspection-history-applied" data-applied={applied}>
                            {applied > 0 ? t('inspectionPage.history.appliedCount', { count: applied }) : <span className="faint">—</span>}
                          </td>
                          <td className="align-end">
                            <Button size="sm" onClick={() => onOpen(openId === rid ? null : rid)} data-testid="inspection-history-open">
                              {openId === rid ? t('inspectionPage.history.close') : t('inspectionPage.history.open')}
                            </Button>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryView>
      </Card>
      {openId !== null ? <RunDetailCard id={openId} onClose={() => onOpen(null)} /> : null}
    </>
  );
}

function RunDetailCard({ id, onClose }: { id: string; onClose: () => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const run = useInspectionRun(id);
  return (
    <Card
      title={t('inspectionPage.detail.title', { id })}
      subtitle={
        run.data ? (
          <span>
            {t('inspectionPage.detail.when', { started: f.dateTime(run.data.started_at), finished: f.dateTime(run.data.finished_at) })}
            {run.data.settings?.threshold !== undefined
              ? ' · ' +
                t('inspectionPage.detail.settings', {
                  threshold: run.data.settings.threshold,
                  concurrency: run.data.settings.concurrency ?? '—',
                })
              : null}
          </span>
        ) : undefined
      }
      actions={
        <Button size="sm" icon="close" onClick={onClose} data-testid="inspection-detail-close">
          {t('inspectionPage.history.close')}
        </Button>
      }
      flush
      data-testid="inspection-detail"
    >
      <QueryView query={run}>{(doc) => <DetailTable doc={doc} />}</QueryView>
    </Card>
  );
}

function DetailTable({ doc }: { doc: RunDetail }) {
  const { t } = useTranslation();
  const f = useFormat();
  const results = Array.isArray(doc.results) ? doc.results : [];
  if (results.length === 0) return <EmptyState title={t('inspectionPage.results.emptyTitle')} />;
  return (
    <div className="table-wrap">
      <table className="table inspection-table">
        <caption className="visually-hidden">{t('inspectionPage.detail.title', { id: String(doc.id) })}</caption>
        <ResultHead />
        <tbody>
          {results.map((r) => (
            <tr
              key={r.auth_index || r.name}
              data-testid="inspection-detail-result"
              data-name={r.name}
              data-action={r.action}
              data-applied-action={r.applied?.action ?? ''}
              data-applied-ok={r.applied ? String(r.applied.ok) : ''}
            >
              <AccountCell result={r} />
              <td className="num">{r.status_code ?? '—'}</td>
              <WindowsCell result={r} />
              <SuggestionCell result={r} />
              <td>
                {r.applied ? (
                  <>
                    <Outcome ok={r.applied.ok} error={r.applied.error} action={r.applied.action} />
                    {r.applied.at ? <div className="faint inspection-meta">{f.dateTime(r.applied.at)}</div> : null}
                  </>
                ) : (
                  <span className="faint">{t('inspectionPage.detail.notApplied')}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
