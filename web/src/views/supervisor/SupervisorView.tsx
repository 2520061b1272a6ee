import { useMemo, useState } from 'react';
import { errorText } from '../../api/client.ts';
import { commands } from '../../api/commands.ts';
import { ASSIGNED_STATUS_FLOW, type AssignedStatus, type Incident, type Session, type Unit } from '../../api/types.ts';
import { ReasonForm } from '../../components/ReasonForm.tsx';
import { AgencyChip, PriorityBadge, StatusBadge, UnitStatusBadge } from '../../components/Badges.tsx';
import { Toasts, useToasts, type ToastApi } from '../../components/Toasts.tsx';
import { useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import type { MessageKey } from '../../i18n/messages.ts';
import { useCity, useStoreVersion } from '../../store/CityContext.tsx';
import { formatDuration } from '../../util/format.ts';
import { useNow } from '../../util/hooks.ts';
import { ageMs, compareQueue, isActive, isOverdue, labelOf } from '../../util/incidents.ts';

/** Patient transport only makes sense for ambulances; other units go straight from the scene to cleared. */
function nextStatuses(unit: Unit): AssignedStatus[] {
  const order = ['dispatched', ...ASSIGNED_STATUS_FLOW] as string[];
  const at = order.indexOf(unit.status);
  const medical = unit.agency === 'ems';
  return ASSIGNED_STATUS_FLOW.filter((s) => order.indexOf(s) > at && (medical || (s !== 'transporting' && s !== 'at_hospital')));
}

export default function SupervisorView({ session }: { session: Session }) {
  const { t } = useI18n();
  const names = useNames();
  const { store } = useCity();
  const version = useStoreVersion(300);
  const [tab, setTab] = useState<'incidents' | 'units'>('incidents');
  const toasts = useToasts();
  const agency = session.user.agency;

  const { incidents, units } = useMemo(() => {
    const units = [...store.units.values()].filter((u) => u.agency === agency).sort((a, b) => a.callSign.localeCompare(b.callSign));
    const ours = new Set(units.map((u) => u.id));
    const incidents = [...store.incidents.values()].filter((i) => isActive(i) && (i.agencies.includes(agency) || i.units.some((id) => ours.has(id)))).sort(compareQueue);
    return { incidents, units };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store, version, agency]);

  return (
    <div className="field" data-testid="supervisor-view">
      <div className="field__head">
        <h2>
          {t('field.title')} · {names.agency(agency)}
        </h2>
        <div className="tabs" role="tablist">
          <button role="tab" aria-selected={tab === 'incidents'} className={tab === 'incidents' ? 'active' : ''} data-testid="tab-incidents" onClick={() => setTab('incidents')}>
            {t('field.incidents')} ({incidents.length})
          </button>
          <button role="tab" aria-selected={tab === 'units'} className={tab === 'units' ? 'active' : ''} data-testid="tab-units" onClick={() => setTab('units')}>
            {t('field.units')} ({units.length})
          </button>
        </div>
      </div>
      {tab === 'incidents' ? (
        <div className="field__list">
          {incidents.length === 0 && <p className="muted field__empty">{t('field.empty')}</p>}
          {incidents.map((i) => (
            <FieldIncident key={i.id} incident={i} units={units.filter((u) => u.incidentId === i.id)} toasts={toasts} />
          ))}
        </div>
      ) : (
        <ul className="field__units" data-testid="field-units">
          {units.map((u) => {
            const on = u.incidentId ? store.incidents.get(u.incidentId) : undefined;
            return (
              <li key={u.id} className="funit" data-testid="field-unit" data-unit-id={u.id} data-status={u.status}>
                <div>
                  <strong>{u.callSign}</strong> <span className="muted">{names.unitType(u.type)}</span>
                </div>
                <UnitStatusBadge status={u.status} readiness={u.readiness} />
                {on && <div className="funit__inc">{`${labelOf(on)} · ${names.type(on.type)}`}</div>}
              </li>
            );
          })}
        </ul>
      )}
      <Toasts toasts={toasts.list} onDismiss={toasts.dismiss} />
    </div>
  );
}

function FieldIncident({ incident, units, toasts }: { incident: Incident; units: Unit[]; toasts: ToastApi }) {
  const { t } = useI18n();
  const names = useNames();
  const city = useCity();
  const now = useNow(5000);
  const [busy, setBusy] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [resolving, setResolving] = useState(false);

  const run = async (key: string, what: () => Promise<unknown>, ok?: string) => {
    setBusy(key);
    try {
      await what();
      if (ok) toasts.push('success', ok);
    } catch (e) {
      toasts.push('error', errorText(e));
    } finally {
      setBusy(null);
      void city.refreshIncident(incident.id);
    }
  };

  return (
    <article className={`fcard ${isOverdue(incident, now) ? 'fcard--overdue' : ''}`} data-testid="field-incident" data-id={incident.id} data-status={incident.status}>
      <header className="fcard__head">
        <PriorityBadge priority={incident.priority} />
        <strong className="fcard__type">{names.type(incident.type)}</strong>
        <StatusBadge status={incident.status} />
      </header>
      <div className="fcard__meta">
        <span>{labelOf(incident)}</span>
        <span>{formatDuration(ageMs(incident, now), t)}</span>
      </div>
      {incident.address && <div className="fcard__addr">{incident.address}</div>}
      {incident.description && <div className="fcard__desc">{incident.description}</div>}
      <div className="chips">
        {incident.agencies.map((a) => (
          <AgencyChip key={a} agency={a} />
        ))}
      </div>

      {units.length === 0 ? (
        <p className="muted">{t('field.noUnitsHere')}</p>
      ) : (
        units.map((u) => (
          <div key={u.id} className="fcard__unit" data-testid="field-incident-unit" data-unit-id={u.id} data-status={u.status}>
            <div className="fcard__unit-head">
              <strong>{u.callSign}</strong>
              <UnitStatusBadge status={u.status} />
            </div>
            <div className="bigbtns">
              {nextStatuses(u).map((s) => (
                <button
                  key={s}
                  className={`bigbtn bigbtn--${s}`}
                  data-testid={`unit-status-${s}`}
                  disabled={busy !== null}
                  onClick={() => run(`${u.id}:${s}`, () => commands.unitStatus(incident.id, u.id, s), t('field.done', { unit: u.callSign, status: t(`unitStatus.${s}` as MessageKey) }))}
                >
                  {t(`action.${s}` as MessageKey)}
                </button>
              ))}
            </div>
          </div>
        ))
      )}

      <form
        className="fcard__note"
        onSubmit={(e) => {
          e.preventDefault();
          const text = note.trim();
          if (!text) return;
          void run('note', () => commands.note(incident.id, text)).then(() => setNote(''));
        }}
      >
        <textarea data-testid="field-note-text" rows={2} value={note} onChange={(e) => setNote(e.target.value)} placeholder={t('incident.notePlaceholder')} />
        <button className="bigbtn bigbtn--note" data-testid="field-note-submit" disabled={busy !== null || !note.trim()}>
          {t('incident.addNote')}
        </button>
      </form>
      {incident.status !== 'reported' &&
        (resolving ? (
          <ReasonForm kind="resolve" busy={busy !== null} onCancel={() => setResolving(false)} onSubmit={(text) => void run('resolve', () => commands.resolve(incident.id, text || undefined)).then(() => setResolving(false))} />
        ) : (
          <button className="bigbtn bigbtn--resolve" data-testid="field-resolve" disabled={busy !== null} onClick={() => setResolving(true)}>
            {t('incident.resolve')}
          </button>
        ))}
    </article>
  );
}
