import type * as L from 'leaflet';
import { useCallback, useMemo, useState } from 'react';
import type { Incident, Session, Unit } from '../../api/types.ts';
import { MapLegend } from '../../components/MapLegend.tsx';
import { Toasts, useToasts } from '../../components/Toasts.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import type { MarkerInput } from '../../map/CanvasMarkerLayer.ts';
import { CityMarkers, incidentKey, unitKey, type MarkerRef } from '../../map/CityMarkers.tsx';
import { MapView } from '../../map/MapView.tsx';
import { useCity, useStoreVersion } from '../../store/CityContext.tsx';
import { agencyColor } from '../../util/colors.ts';
import { isActive, isAvailable } from '../../util/incidents.ts';
import { IncidentPanel } from './IncidentPanel.tsx';
import { IncidentQueue } from './IncidentQueue.tsx';
import { ReportForm } from './ReportForm.tsx';
import { UnitCard } from './UnitCard.tsx';

const showIncident = (i: Incident) => isActive(i);

export default function DispatcherView({ session }: { session: Session }) {
  const { store } = useCity();
  const { t } = useI18n();
  const version = useStoreVersion(300);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [draft, setDraft] = useState<{ lat: number; lng: number; side: 'left' | 'right' } | null>(null);
  const [unitId, setUnitId] = useState<string | null>(null);
  const toasts = useToasts();

  const selected = selectedId ? (store.incidents.get(selectedId) ?? null) : null;

  const onMapClick = useCallback(
    (target: MarkerRef | null, latlng: L.LatLng, where: { x: number; width: number }) => {
      if (target?.kind === 'incident') {
        setSelectedId(target.id);
        setUnitId(null);
        setDraft(null);
      } else if (target?.kind === 'unit') {
        setUnitId(target.id);
      } else {
        setUnitId(null);
        // The form opens on the other half of the map, so it never hides the spot being reported.
        setDraft({ lat: latlng.lat, lng: latlng.lng, side: where.x > where.width / 2 ? 'left' : 'right' });
      }
    },
    [],
  );

  const highlight = useMemo(() => {
    const keys: string[] = [];
    if (selectedId) keys.push(incidentKey(selectedId));
    if (unitId) keys.push(unitKey(unitId));
    return keys;
  }, [selectedId, unitId]);

  // Dashed lines from the selected incident to the units working it.
  const links = useMemo(() => {
    if (!selected) return [];
    return selected.units
      .map((id) => store.units.get(id))
      .filter((u): u is Unit => !!u?.position)
      .map((u) => ({ from: [u.position!.lat, u.position!.lng] as [number, number], to: [selected.location.lat, selected.location.lng] as [number, number], color: agencyColor(u.agency) }));
    // version: unit positions move under the same incident object
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, version, store]);

  const extra = useMemo<MarkerInput[]>(
    () => (draft ? [{ key: 'x:draft', lat: draft.lat, lng: draft.lng, style: { shape: 'ring', fill: '#00b8d9', stroke: '#00b8d9', size: 11, lineWidth: 3, z: 200 } }] : []),
    [draft],
  );

  const unit = unitId ? store.units.get(unitId) : undefined;

  return (
    <div className="dispatch" data-testid="dispatcher-view">
      <IncidentQueue selectedId={selectedId} onSelect={(id) => { setSelectedId(id); setDraft(null); }} agency={session.user.agency} />
      <section className="dispatch__map">
        <MapView testId="dispatch-map">
          <CityMarkers name="dispatch" showIncident={showIncident} onClick={onMapClick} highlight={highlight} links={links} extra={extra} />
        </MapView>
        <MapLegend />
        <div className="map-hint" data-testid="map-hint">{t('queue.hint')}</div>
        {draft && (
          <ReportForm
            location={draft}
            side={draft.side}
            onCancel={() => setDraft(null)}
            onReported={(id, label) => {
              setDraft(null);
              setSelectedId(id);
              toasts.push('success', t('report.done', { label }));
            }}
          />
        )}
        {unit && (
          <UnitCard
            unit={unit}
            incident={selected}
            onClose={() => setUnitId(null)}
            onAssigned={() => setUnitId(null)}
            toasts={toasts}
            canAssign={!!selected && isActive(selected) && selected.status !== 'reported' && isAvailable(unit) && selected.agencies.includes(unit.agency)}
          />
        )}
        <Toasts toasts={toasts.list} onDismiss={toasts.dismiss} />
      </section>
      {selectedId && <IncidentPanel key={selectedId} incidentId={selectedId} onClose={() => setSelectedId(null)} toasts={toasts} />}
    </div>
  );
}
