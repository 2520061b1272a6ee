import { useEffect, useState, type FormEvent } from 'react';
import { errorText } from '../../api/client.ts';
import type { Incident } from '../../api/types.ts';
import { ALL_STATUSES } from '../../api/types.ts';
import { PriorityBadge, StatusBadge } from '../../components/Badges.tsx';
import { useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import { formatTime } from '../../util/format.ts';
import { labelOf } from '../../util/incidents.ts';
import { navigate, useLocation } from '../../util/router.ts';
import { Replay } from './Replay.tsx';
import { VerifyBadge } from './VerifyBadge.tsx';
import { searchIncidents, type AuditFilters } from './search.ts';

const EMPTY: AuditFilters = { from: '', to: '', agency: '', type: '', actor: '', status: '' };

export default function AuditorView() {
  const { path } = useLocation();
  const selectedId = decodeURIComponent(path.split('/')[2] ?? '') || null;
  const { t } = useI18n();
  const names = useNames();
  const i18n = useI18n();
  const [filters, setFilters] = useState<AuditFilters>(EMPTY);
  const [results, setResults] = useState<{ items: Incident[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (f: AuditFilters) => {
    setBusy(true);
    setError(null);
    try {
      setResults(await searchIncidents(f));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void run(EMPTY);
  }, []);

  const set = (k: keyof AuditFilters) => (e: { target: { value: string } }) => setFilters((f) => ({ ...f, [k]: e.target.value }));

  return (
    <div className="audit" data-testid="auditor-view">
      <aside className="audit__side">
        <VerifyBadge />
        <form
          className="audit__search"
          data-testid="audit-search"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void run(filters);
          }}
        >
          <h2>{t('audit.title')}</h2>
          <div className="form-grid">
            <label className="span2">
              {t('audit.from')}
              <input type="datetime-local" data-testid="audit-from" value={filters.from} onChange={set('from')} />
            </label>
            <label className="span2">
              {t('audit.to')}
              <input type="datetime-local" data-testid="audit-to" value={filters.to} onChange={set('to')} />
            </label>
            <label>
              {t('unit.agency')}
              <select data-testid="audit-agency" value={filters.agency} onChange={set('agency')}>
                <option value="">{t('common.all')}</option>
                {names.agencies.map((a) => (
                  <option key={a.id} value={a.id}>
                    {names.agency(a.id)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('incident.type')}
              <select data-testid="audit-type" value={filters.type} onChange={set('type')}>
                <option value="">{t('common.all')}</option>
                {names.incidentTypes.map((it) => (
                  <option key={it.id} value={it.id}>
                    {names.type(it.id)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('incident.status')}
              <select data-testid="audit-status" value={filters.status} onChange={set('status')}>
                <option value="">{t('common.all')}</option>
                {ALL_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {i18n.tx(`status.${s}`)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('audit.actor')}
              <input data-testid="audit-actor" value={filters.actor} onChange={set('actor')} placeholder="dispatcher.police" />
            </label>
          </div>
          <div className="card__actions">
            <button type="button" className="btn" onClick={() => { setFilters(EMPTY); void run(EMPTY); }}>
              {t('common.all')}
            </button>
            <button className="btn btn--primary" data-testid="audit-submit" disabled={busy}>
              {t('common.search')}
            </button>
          </div>
        </form>
        {error && <p className="cbd-error">{error}</p>}
        <div className="audit__results" data-testid="audit-results">
          {results && <div className="muted audit__count">{t('audit.results', { n: results.total })}</div>}
          {results?.items.length === 0 && <p className="muted">{t('audit.noResults')}</p>}
          <ul>
            {results?.items.map((i) => (
              <li key={i.id}>
                <button
                  className={`aitem ${i.id === selectedId ? 'aitem--selected' : ''}`}
                  data-testid="audit-result"
                  data-id={i.id}
                  onClick={() => navigate(`/audit/${encodeURIComponent(i.id)}`)}
                >
                  <div className="qitem__row">
                    <PriorityBadge priority={i.priority} />
                    <strong>{names.type(i.type)}</strong>
                    <StatusBadge status={i.status} />
                  </div>
                  <div className="qitem__row qitem__row--sub">
                    <span className="qitem__label">{labelOf(i)}</span>
                    <span>{formatTime(i.reportedAt, i18n.locale, true)}</span>
                  </div>
                  {i.address && <div className="qitem__addr">{i.address}</div>}
                </button>
              </li>
            ))}
          </ul>
        </div>
      </aside>
      <section className="audit__main">{selectedId ? <Replay key={selectedId} incidentId={selectedId} /> : <p className="audit__pick muted">{t('audit.pick')}</p>}</section>
    </div>
  );
}
