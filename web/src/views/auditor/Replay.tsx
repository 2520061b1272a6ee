import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../../api/client.ts';
import type { Incident, Unit } from '../../api/types.ts';
import { AgencyChip, PriorityBadge, StatusBadge, UnitStatusBadge } from '../../components/Badges.tsx';
import { Timeline } from '../../components/Timeline.tsx';
import { useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import type { CanvasMarkerLayer, MarkerInput } from '../../map/CanvasMarkerLayer.ts';
import { MapView, MarkerLayer } from '../../map/MapView.tsx';
import { incidentStyle, unitStyle } from '../../map/symbology.ts';
import { useHistory, useIncident } from '../../store/useIncident.ts';
import { callSignsOf, describeEvent } from '../../util/describeEvent.ts';
import { formatTime } from '../../util/format.ts';
import { labelOf } from '../../util/incidents.ts';
import { download, foldHistory, historyToCsv, type ReplayState } from '../../util/replay.ts';

type CitySnapshot = { incidents: Incident[]; units: Unit[] };

// Remembered for the page's lifetime: once the API says it has no time travel, stop asking every step.
let cityAtSupported: boolean | null = null;

export function Replay({ incidentId }: { incidentId: string }) {
  const i18n = useI18n();
  const { t, tx, locale } = i18n;
  const names = useNames();
  const { incident } = useIncident(incidentId);
  const { history, error } = useHistory(incidentId);
  const [step, setStep] = useState(0);
  const [city, setCity] = useState<CitySnapshot | null>(null);
  const states = useMemo(() => (history ? foldHistory(history) : []), [history]);
  const n = history?.length ?? 0;
  const at = Math.min(step, Math.max(0, n - 1));
  const entry = history?.[at];
  const state = states[at];
  const signs = useMemo(() => callSignsOf(history ?? []), [history]);

  useEffect(() => {
    if (!entry || cityAtSupported === false) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      api
        .get<CitySnapshot>(`/api/city?at=${encodeURIComponent(entry.occurredAt)}`)
        .then((c) => {
          cityAtSupported = true;
          if (!cancelled) setCity(c);
        })
        .catch((e) => {
          if (e instanceof ApiError && (e.status === 404 || e.status === 501 || e.status === 400)) cityAtSupported = false;
          if (!cancelled) setCity(null);
        });
    }, 120);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [entry]);

  const go = useCallback((i: number) => setStep(Math.max(0, Math.min(n - 1, i))), [n]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement)?.tagName === 'INPUT' || (e.target as HTMLElement)?.tagName === 'TEXTAREA') return;
      if (e.key === 'ArrowLeft') go(at - 1);
      if (e.key === 'ArrowRight') go(at + 1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [at, go]);

  if (error) return <p className="cbd-error">{error}</p>;
  if (!history || !entry || !state) return <p className="muted">{t('common.loading')}</p>;

  const label = incident ? labelOf(incident) : labelOf({ id: incidentId });
  const exportJson = () =>
    download(`${label}-history.json`, JSON.stringify({ incident: incident ?? { id: incidentId }, exportedAt: new Date().toISOString(), history }, null, 2), 'application/json');
  const exportCsv = () => download(`${label}-history.csv`, historyToCsv(history), 'text/csv;charset=utf-8');
  // Signed by the server, checked offline with npm run audit:verify -- --bundle <file>.
  const exportBundle = () =>
    void api
      .get<unknown>(`/api/incidents/${encodeURIComponent(incidentId)}/export?format=bundle`)
      .then((bundle) => download(`${label}.bundle.json`, JSON.stringify(bundle, null, 2), 'application/json'));

  return (
    <div className="replay" data-testid="replay" data-step={at} data-steps={n}>
      <header className="replay__head">
        <div>
          <div className="panel__label">{label}</div>
          <h2>
            {names.type(state.type || incident?.type || '')} {incident?.address ? `· ${incident.address}` : ''}
          </h2>
        </div>
        <div className="replay__export">
          <button className="btn" data-testid="export-json" onClick={exportJson}>
            {t('audit.exportJson')}
          </button>
          <button className="btn" data-testid="export-csv" onClick={exportCsv}>
            {t('audit.exportCsv')}
          </button>
          <button className="btn" data-testid="export-bundle" onClick={exportBundle}>
            {t('audit.exportBundle')}
          </button>
        </div>
      </header>

      <div className="scrubber" data-testid="replay-scrubber-box">
        <button className="btn" data-testid="replay-prev" onClick={() => go(at - 1)} disabled={at === 0}>
          ◀ {t('audit.prev')}
        </button>
        <input
          type="range"
          min={0}
          max={Math.max(0, n - 1)}
          step={1}
          value={at}
          onChange={(e) => go(Number(e.target.value))}
          data-testid="replay-scrubber"
          aria-label={t('audit.step', { i: at + 1, n })}
        />
        <button className="btn" data-testid="replay-next" onClick={() => go(at + 1)} disabled={at >= n - 1}>
          {t('audit.next')} ▶
        </button>
        <span className="scrubber__pos" data-testid="replay-step">
          {t('audit.step', { i: at + 1, n })}
        </span>
      </div>

      <div className="replay__body">
        <div className="replay__map">
          <MapView testId="replay-map" center={state.location ? [state.location.lat, state.location.lng] : undefined} zoom={14}>
            <ReplayMarkers incidentId={incidentId} state={state} city={city} />
          </MapView>
          <div className="map-note" data-testid="replay-map-note">
            {city ? t('audit.cityAt') : t('audit.historyOnly')}
          </div>
        </div>

        <div className="replay__detail">
          <section className="section replay__event" data-testid="replay-event" data-type={entry.type}>
            <h3>{t('audit.event')}</h3>
            <div className="replay__event-type" data-testid="replay-event-type">
              {tx(`event.${entry.type}`, entry.type)} <code>{entry.type}</code>
            </div>
            <div className="replay__event-detail">{describeEvent(entry, names, i18n, signs)}</div>
            <dl className="kv">
              <dt>{t('audit.when')}</dt>
              <dd data-testid="replay-when">{formatTime(entry.occurredAt, locale, true)}</dd>
              <dt>{t('audit.who')}</dt>
              <dd>
                <strong data-testid="replay-actor">{entry.actorName ?? entry.actor ?? '—'}</strong>
                <span className="muted" data-testid="replay-role" data-role={entry.role ?? ''}>
                  {' '}
                  · {entry.role ? names.role(String(entry.role)) : '—'}
                </span>
                <span className="muted" data-testid="replay-agency" data-agency={entry.agency ?? ''}>
                  {' '}
                  · {entry.agency ? names.agency(String(entry.agency)) : '—'}
                </span>
              </dd>
              <dt>{t('common.reason')}</dt>
              <dd data-testid="replay-reason">{entry.reason || '—'}</dd>
              <dt>{t('audit.data')}</dt>
              <dd>
                <code className="replay__data">{JSON.stringify(entry.data)}</code>
              </dd>
            </dl>
          </section>

          <section className="section replay__state" data-testid="replay-state" data-status={state.status} data-priority={state.priority}>
            <h3>{t('audit.stateAfter')}</h3>
            <div className="replay__state-row">
              {state.priority > 0 && <PriorityBadge priority={state.priority} long />}
              <StatusBadge status={state.status} />
            </div>
            <div className="chips">
              {state.agencies.map((a) => (
                <AgencyChip key={a} agency={a} />
              ))}
            </div>
            <ul className="assigned" data-testid="replay-units">
              {Object.entries(state.units).map(([id, u]) => (
                <li key={id} data-testid="replay-unit" data-unit-id={id} data-status={u.status}>
                  <strong>{u.callSign}</strong>
                  <AgencyChip agency={u.agency} />
                  <UnitStatusBadge status={u.status} />
                </li>
              ))}
            </ul>
            {state.notes.length > 0 && (
              <div className="muted">
                {t('incident.notes')}: {state.notes.length}
              </div>
            )}
          </section>

          <section className="section">
            <h3>{t('incident.timeline')}</h3>
            <Timeline history={history} activeIndex={at} onPick={go} />
          </section>
        </div>
      </div>
    </div>
  );
}

function ReplayMarkers({ incidentId, state, city }: { incidentId: string; state: ReplayState; city: CitySnapshot | null }) {
  const layerRef = useRef<CanvasMarkerLayer | null>(null);
  const [ready, setReady] = useState(0);

  useEffect(() => {
    const layer = layerRef.current;
    if (!layer) return;
    const markers: MarkerInput[] = [];
    const involved = new Set(Object.keys(state.units));
    if (city) {
      for (const u of city.units) {
        if (!u.position) continue;
        // Units not on this incident stay as faint context; the ones that are stand out.
        const style = unitStyle(u);
        markers.push({ key: `u:${u.id}`, lat: u.position.lat, lng: u.position.lng, style: involved.has(u.id) ? { ...style, size: 8, z: 60 } : { ...style, alpha: 0.35, z: 5 }, title: u.callSign, label: involved.has(u.id) ? u.callSign : undefined });
      }
    }
    if (state.location && state.status !== 'new') {
      markers.push({ key: `i:${incidentId}`, lat: state.location.lat, lng: state.location.lng, style: { ...incidentStyle({ priority: state.priority as 1, status: state.status }), size: 11 }, title: state.type });
    }
    layer.replaceAll(markers);
    layer.setHighlight([`i:${incidentId}`, ...[...involved].map((id) => `u:${id}`)]);
  }, [state, city, incidentId, ready]);

  return (
    <MarkerLayer
      name="replay"
      onReady={(layer) => {
        layerRef.current = layer;
        setReady((r) => r + 1);
        return () => {
          layerRef.current = null;
        };
      }}
    />
  );
}
