import { useState } from 'react';
import { api, errorText } from '../../api/client.ts';
import type { Agency, Incident } from '../../api/types.ts';
import { AgencyChip } from '../../components/Badges.tsx';
import type { ToastApi } from '../../components/Toasts.tsx';
import { useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import { coordinationWords } from './coordinationWords.ts';

const legPath = (id: string, tail: string) => `/api/incidents/${encodeURIComponent(id)}/${tail}`;

/** One row per agency on the incident: its status, owner and units, what its run card still misses, and its own buttons. */
export function LegsSection({ incident, toasts, onChanged }: { incident: Incident; toasts: ToastApi; onChanged: () => void }) {
  const { lang } = useI18n();
  const w = coordinationWords(lang);
  const names = useNames();
  const me = api.current?.user;
  const [busy, setBusy] = useState(false);
  const [aidTo, setAidTo] = useState<Agency | ''>('');
  const legs = incident.legs ?? [];
  if (legs.length === 0) return null;
  const working = incident.status === 'triaged' || incident.status === 'dispatched' || incident.status === 'on_scene';
  const mine = (agency: Agency) => me?.role === 'admin' || me?.agency === agency;

  const run = async (path: string, body: unknown = {}) => {
    setBusy(true);
    try {
      await api.command(legPath(incident.id, path), body);
      onChanged();
    } catch (e) {
      toasts.push('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const others = names.agencies.map((a) => a.id as Agency).filter((a) => !legs.some((l) => l.agency === a && l.status !== 'declined'));

  return (
    <section className="section" data-testid="legs">
      <h3>
        {w('legs')} <small className="muted" data-testid="plan-id">{w('plan')}: {incident.planId}</small>
      </h3>
      <ul className="legs">
        {legs.map((leg) => (
          <li key={leg.agency} className={`leg leg--${leg.status}`} data-testid="leg" data-agency={leg.agency} data-status={leg.status} data-lead={leg.lead ? 'true' : 'false'}>
            <div className="leg__head">
              <AgencyChip agency={leg.agency} />
              {leg.lead && (
                <span className="rec__badge" data-testid="leg-lead">
                  {w('lead')}
                </span>
              )}
              <span className="leg__status" data-testid="leg-status">
                {w(`status.${leg.status}`)}
              </span>
            </div>
            <div className="leg__units muted" data-testid="leg-units">
              {leg.units.length > 0 ? leg.units.map((u) => `${u.callSign} (${u.status.replace(/_/g, ' ')})`).join(', ') : '—'}
            </div>
            <div className="leg__owner muted">
              {w('owner')}: <span data-testid="leg-owner">{leg.owner ? (leg.owner === me?.id ? me.username : leg.owner.slice(-6)) : w('nobody')}</span>
            </div>
            {leg.missing.length > 0 && (
              <div className="leg__missing" data-testid="leg-missing">
                {w('missing')}: {leg.missing.map((m) => `${m.count} × ${names.unitType(m.unitType)}`).join(', ')}
              </div>
            )}
            {working && mine(leg.agency) && (
              <div className="card__actions">
                {leg.status === 'requested' ? (
                  <>
                    <button className="btn btn--primary" data-testid="leg-accept" disabled={busy} onClick={() => run(`mutual-aid/${leg.agency}/accept`)}>
                      {w('accept')}
                    </button>
                    <button className="btn" data-testid="leg-decline" disabled={busy} onClick={() => run(`mutual-aid/${leg.agency}/decline`, { reason: w('declineReason') })}>
                      {w('decline')}
                    </button>
                  </>
                ) : leg.status !== 'declined' && leg.status !== 'done' ? (
                  <>
                    {leg.owner !== me?.id && me?.role !== 'supervisor' && (
                      <button className="btn" data-testid="leg-claim" disabled={busy} onClick={() => run(`legs/${leg.agency}/claim`)}>
                        {w('claim')}
                      </button>
                    )}
                    <button className="btn btn--ok" data-testid="leg-complete" disabled={busy || leg.status === 'dispatched' || leg.status === 'on_scene'} onClick={() => run(`legs/${leg.agency}/complete`)}>
                      {w('complete')}
                    </button>
                  </>
                ) : null}
              </div>
            )}
          </li>
        ))}
      </ul>
      {working && me && me.role !== 'supervisor' && me.role !== 'auditor' && (
        <div className="card__actions">
          <select data-testid="aid-agency" value={aidTo} onChange={(e) => setAidTo(e.target.value as Agency)}>
            <option value="">—</option>
            {others.map((a) => (
              <option key={a} value={a}>
                {names.agency(a)}
              </option>
            ))}
          </select>
          <button className="btn" data-testid="aid-request" disabled={busy || aidTo === ''} onClick={() => run('mutual-aid', { agency: aidTo }).then(() => setAidTo(''))}>
            {w('requestAid')}
          </button>
        </div>
      )}
    </section>
  );
}
