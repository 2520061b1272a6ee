import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, errorText } from '../../api/client.ts';
import { commands } from '../../api/commands.ts';
import type { Agency, Incident, Priority, Recommendation, Unit } from '../../api/types.ts';
import { AgencyChip, PriorityBadge, StatusBadge, UnitStatusBadge } from '../../components/Badges.tsx';
import { ReasonForm } from '../../components/ReasonForm.tsx';
import { Timeline } from '../../components/Timeline.tsx';
import type { ToastApi } from '../../components/Toasts.tsx';
import { useConfig, useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import { useCity, useStoreVersion } from '../../store/CityContext.tsx';
import { useHistory, useIncident } from '../../store/useIncident.ts';
import { formatDuration, formatTime } from '../../util/format.ts';
import { useNow } from '../../util/hooks.ts';
import { ageMs, isOverdue, labelOf, recommendUnits } from '../../util/incidents.ts';
import { useAssign } from './useAssign.ts';
import { coordinationWords } from './coordinationWords.ts';
import { DuplicatesSection } from './DuplicatesSection.tsx';
import { LegsSection } from './LegsSection.tsx';

type Pending = null | 'cancel' | 'reopen' | 'resolve';

export function IncidentPanel({ incidentId, onClose, toasts }: { incidentId: string; onClose: () => void; toasts: ToastApi }) {
  const { t, locale } = useI18n();
  const names = useNames();
  const city = useCity();
  const { incident, error } = useIncident(incidentId);
  const { history, reload } = useHistory(incidentId);
  const now = useNow(1000);
  const [triageOpen, setTriageOpen] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);

  if (!incident) {
    return (
      <aside className="panel" data-testid="incident-panel">
        <header className="panel__head">
          <h2>{t('incident.title')}</h2>
          <button className="icon-btn" aria-label={t('common.close')} onClick={onClose}>
            ×
          </button>
        </header>
        <p className={error ? 'cbd-error' : 'muted'}>{error ?? t('common.loading')}</p>
      </aside>
    );
  }

  const run = async (what: () => Promise<unknown>, ok?: string) => {
    setBusy(true);
    try {
      await what();
      if (ok) toasts.push('success', ok);
      setPending(null);
      void city.refreshIncident(incident.id);
      reload();
    } catch (e) {
      toasts.push('error', errorText(e));
      void city.refreshIncident(incident.id);
    } finally {
      setBusy(false);
    }
  };

  const s = incident.status;
  const canAssign = s === 'triaged' || s === 'dispatched' || s === 'on_scene';
  const active = s === 'reported' || canAssign;
  // The server's status timers (overdue alerts on the feed) or, until one fires, the queue's own clock.
  const late = (incident.overdue?.length ?? 0) > 0 || isOverdue(incident, now);

  return (
    <aside className="panel" data-testid="incident-panel" data-id={incident.id} data-status={s} data-priority={incident.priority} data-revision={incident.revision}>
      <header className="panel__head">
        <div>
          <div className="panel__label" data-testid="incident-label">
            {labelOf(incident)}
          </div>
          <h2>
            <PriorityBadge priority={incident.priority} long /> {names.type(incident.type)}
          </h2>
          <div className="panel__status">
            <StatusBadge status={s} />
            <span className="muted">{t('incident.age', { t: formatDuration(ageMs(incident, now), t) })}</span>
            {late && (
              <span className="qitem__late" data-testid="panel-overdue">
                {t('queue.overdue')}
              </span>
            )}
          </div>
        </div>
        <button className="icon-btn" data-testid="panel-close" aria-label={t('common.close')} onClick={onClose}>
          ×
        </button>
      </header>

      <div className="panel__scroll">
        <dl className="kv">
          {incident.address && (
            <>
              <dt>{t('incident.address')}</dt>
              <dd data-testid="incident-address">{incident.address}</dd>
            </>
          )}
          {incident.description && (
            <>
              <dt>{t('incident.description')}</dt>
              <dd>{incident.description}</dd>
            </>
          )}
          {incident.source && (
            <>
              <dt>{t('incident.source')}</dt>
              <dd>{names.source(String(incident.source))}</dd>
            </>
          )}
          <dt>{t('incident.reportedAt')}</dt>
          <dd>{formatTime(incident.reportedAt, locale, true)}</dd>
          <dt>{t('incident.agencies')}</dt>
          <dd className="chips" data-testid="incident-agencies">
            {incident.agencies.map((a) => (
              <AgencyChip key={a} agency={a} />
            ))}
          </dd>
        </dl>

        <DuplicatesSection incident={incident} toasts={toasts} onChanged={() => { void city.refreshIncident(incident.id); reload(); }} />

        <LegsSection incident={incident} toasts={toasts} onChanged={() => { void city.refreshIncident(incident.id); reload(); }} />

        {(s === 'reported' || triageOpen) && (
          <TriageForm incident={incident} busy={busy} onCancel={s === 'reported' ? undefined : () => setTriageOpen(false)} onSubmit={(body) => run(() => commands.triage(incident.id, body)).then(() => setTriageOpen(false))} />
        )}

        {canAssign && <AssignList incident={incident} toasts={toasts} onAssigned={reload} />}

        <AssignedUnits incident={incident} />

        <section className="section">
          <h3>{t('incident.notes')}</h3>
          <ul className="notes" data-testid="notes">
            {(history ?? [])
              .filter((h) => h.type === 'IncidentNoteAdded')
              .map((h) => (
                <li key={h.position} data-testid="note">
                  <div>{String((h.data as { text?: string }).text ?? '')}</div>
                  <small className="muted">
                    {formatTime(h.occurredAt, locale)} · {h.actorName ?? h.actor}
                  </small>
                </li>
              ))}
          </ul>
          <NoteForm disabled={busy || s === 'cancelled' || s === 'closed'} onSubmit={(text) => run(() => commands.note(incident.id, text))} />
        </section>

        <section className="section actions" data-testid="incident-actions">
          {canAssign && !triageOpen && (
            <button className="btn" data-testid="action-retriage" onClick={() => setTriageOpen(true)}>
              {t('incident.retriage')}
            </button>
          )}
          {active && incident.priority > 1 && (
            <button
              className="btn"
              data-testid="action-escalate"
              disabled={busy}
              onClick={() => run(() => commands.escalate(incident.id, { priority: (incident.priority - 1) as Priority }))}
            >
              {t('incident.escalate')} → P{incident.priority - 1}
            </button>
          )}
          {canAssign && (
            <button className="btn btn--ok" data-testid="action-resolve" onClick={() => setPending('resolve')}>
              {t('incident.resolve')}
            </button>
          )}
          {s === 'resolved' && (
            <button className="btn btn--primary" data-testid="action-close" disabled={busy} onClick={() => run(() => commands.close(incident.id))}>
              {t('incident.close')}
            </button>
          )}
          {(s === 'resolved' || s === 'closed') && (
            <button className="btn" data-testid="action-reopen" onClick={() => setPending('reopen')}>
              {t('incident.reopen')}
            </button>
          )}
          {active && (
            <button className="btn btn--danger" data-testid="action-cancel" onClick={() => setPending('cancel')}>
              {t('incident.cancel')}
            </button>
          )}
        </section>
        {pending && (
          <ReasonForm
            kind={pending}
            busy={busy}
            onCancel={() => setPending(null)}
            onSubmit={(text) =>
              run(() =>
                pending === 'cancel' ? commands.cancel(incident.id, text) : pending === 'reopen' ? commands.reopen(incident.id, text) : commands.resolve(incident.id, text || undefined),
              )
            }
          />
        )}

        <section className="section">
          <h3>{t('incident.timeline')}</h3>
          {history ? <Timeline history={history} /> : <p className="muted">{t('common.loading')}</p>}
        </section>
      </div>
    </aside>
  );
}

function TriageForm({ incident, busy, onSubmit, onCancel }: { incident: Incident; busy: boolean; onSubmit: (b: { priority: Priority; type: string; agencies: Agency[] }) => void; onCancel?: () => void }) {
  const { t, tx } = useI18n();
  const names = useNames();
  const [priority, setPriority] = useState<number>(incident.priority);
  const [type, setType] = useState(incident.type);
  const [agencies, setAgencies] = useState<Agency[]>(incident.agencies);

  const changeType = (next: string) => {
    setType(next);
    const info = names.typeInfo(next);
    // The new type's agencies are what it needs; agencies the dispatcher added by hand stay.
    if (info) setAgencies((cur) => [...new Set([...info.agencies, ...cur.filter((a) => !names.typeInfo(type)?.agencies.includes(a))])]);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit({ priority: priority as Priority, type, agencies });
  };

  return (
    <form className="section triage" data-testid="triage-form" onSubmit={submit}>
      <h3>{incident.status === 'reported' ? t('incident.triage') : t('incident.retriage')}</h3>
      <div className="form-grid">
        <label>
          {t('priority.label')}
          <select data-testid="triage-priority" value={priority} onChange={(e) => setPriority(Number(e.target.value))}>
            {names.priorities.map((p) => (
              <option key={p} value={p}>
                P{p} · {tx(`priority.${p}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('incident.type')}
          <select data-testid="triage-type" value={type} onChange={(e) => changeType(e.target.value)}>
            {names.incidentTypes.map((it) => (
              <option key={it.id} value={it.id}>
                {names.type(it.id)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset className="agency-picks">
        <legend>{t('incident.agencies')}</legend>
        {names.agencies.map((a) => (
          <label key={a.id} className={`pick ${agencies.includes(a.id as Agency) ? 'pick--on' : ''}`}>
            <input
              type="checkbox"
              data-testid={`triage-agency-${a.id}`}
              checked={agencies.includes(a.id as Agency)}
              onChange={(e) => setAgencies((cur) => (e.target.checked ? [...cur, a.id as Agency] : cur.filter((x) => x !== a.id)))}
            />
            {names.agency(a.id)}
          </label>
        ))}
      </fieldset>
      <div className="card__actions">
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        )}
        <button className="btn btn--primary" data-testid="triage-submit" disabled={busy || agencies.length === 0}>
          {t('incident.triageSave')}
        </button>
      </div>
    </form>
  );
}

function AssignList({ incident, toasts, onAssigned }: { incident: Incident; toasts: ToastApi; onAssigned: () => void }) {
  const { t, lang } = useI18n();
  const w = coordinationWords(lang);
  const names = useNames();
  const config = useConfig();
  const { store } = useCity();
  const version = useStoreVersion(500);
  const { assign, busyUnit } = useAssign(toasts);
  const [server, setServer] = useState<Recommendation[] | null | undefined>(undefined);

  // The API's own recommendations (road ETAs) when it has them; straight-line distance until then.
  useEffect(() => {
    let cancelled = false;
    api
      .optional<Recommendation[]>(`/api/incidents/${encodeURIComponent(incident.id)}/recommendations`)
      .then((r) => !cancelled && setServer(Array.isArray(r) ? r : null))
      .catch(() => !cancelled && setServer(null));
    return () => {
      cancelled = true;
    };
  }, [incident.id, incident.revision, incident.agencies]);

  const recs = useMemo(() => {
    const local = recommendUnits(incident, store.units.values(), config.unitTypes ?? []);
    if (!server) return local;
    // Server order wins, but never offer a unit the live feed already shows as taken.
    const free = new Set(local.map((r) => r.unitId));
    return server.filter((r) => free.has(r.unitId));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [incident, server, version, store, config]);

  return (
    <section className="section" data-testid="assign-list">
      <h3>{t('incident.assign')}</h3>
      {recs.length === 0 ? (
        <p className="muted" data-testid="no-available-units">
          {t('incident.noAvailable')}
        </p>
      ) : (
        <ul className="recs">
          {recs.slice(0, 8).map((r, idx) => {
            const u = store.units.get(r.unitId) as Unit | undefined;
            if (!u) return null;
            return (
              <li key={r.unitId} className={`rec ${idx === 0 ? 'rec--top' : ''}`} data-testid="assign-option" data-unit-id={r.unitId} data-recommended={idx === 0 ? 'true' : 'false'}>
                <div className="rec__main">
                  <strong>{u.callSign}</strong>
                  {idx === 0 && (
                    <span className="rec__badge" data-testid="recommended-badge">
                      {t('incident.recommended')}
                    </span>
                  )}
                  <div className="rec__sub">
                    <AgencyChip agency={u.agency} /> {names.unitType(u.type)}
                  </div>
                  {server && r.reason && (
                    <div className="rec__reason muted" data-testid="rec-reason" title={w('reason')}>
                      {r.reason}
                    </div>
                  )}
                </div>
                <div className="rec__dist">
                  <div>{t('common.km', { d: r.distanceKm.toFixed(1) })}</div>
                  {r.etaMinutes !== null && <small>{t('common.min', { m: r.etaMinutes })}</small>}
                </div>
                <button
                  className={`btn ${idx === 0 ? 'btn--primary' : ''}`}
                  data-testid="assign-button"
                  disabled={busyUnit !== null}
                  onClick={async () => {
                    if (await assign(incident, u)) onAssigned();
                  }}
                >
                  {t('incident.assignBtn')}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <p className="hint">{t('incident.assignHint')}</p>
    </section>
  );
}

function AssignedUnits({ incident }: { incident: Incident }) {
  const { t } = useI18n();
  const names = useNames();
  const { store } = useCity();
  const all = incident.allUnits?.length ? incident.allUnits : incident.units;
  return (
    <section className="section">
      <h3>{t('incident.units')}</h3>
      {all.length === 0 ? (
        <p className="muted">{t('incident.noUnits')}</p>
      ) : (
        <ul className="assigned" data-testid="assigned-units">
          {all.map((id) => {
            const u = store.units.get(id);
            const current = incident.units.includes(id);
            const status = current && u && u.incidentId === incident.id ? u.status : current ? 'dispatched' : 'cleared';
            return (
              <li key={id} data-testid="assigned-unit" data-unit-id={id} data-status={status}>
                <strong>{u?.callSign ?? id.slice(-6)}</strong>
                {u && <AgencyChip agency={u.agency} />}
                {u && <span className="muted">{names.unitType(u.type)}</span>}
                <UnitStatusBadge status={status} />
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function NoteForm({ onSubmit, disabled }: { onSubmit: (text: string) => Promise<void>; disabled: boolean }) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  return (
    <form
      className="note-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!text.trim()) return;
        await onSubmit(text.trim());
        setText('');
      }}
    >
      <textarea data-testid="note-text" rows={2} value={text} onChange={(e) => setText(e.target.value)} placeholder={t('incident.notePlaceholder')} maxLength={2000} disabled={disabled} />
      <button className="btn" data-testid="note-submit" disabled={disabled || !text.trim()}>
        {t('incident.addNote')}
      </button>
    </form>
  );
}
