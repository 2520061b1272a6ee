import type * as L from 'leaflet';
import { useCallback, useEffect, useRef } from 'react';
import type { Incident, Unit } from '../api/types.ts';
import { useNames } from '../config/ConfigContext.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { useCity } from '../store/CityContext.tsx';
import { labelOf } from '../util/incidents.ts';
import type { CanvasMarkerLayer, MarkerHit, MarkerInput } from './CanvasMarkerLayer.ts';
import { MarkerLayer } from './MapView.tsx';
import { incidentStyle, unitStyle } from './symbology.ts';

export type MarkerRef = { kind: 'incident' | 'unit'; id: string };

export const incidentKey = (id: string) => `i:${id}`;
export const unitKey = (id: string) => `u:${id}`;

interface CityMarkersProps {
  name: string;
  showIncident?: (i: Incident) => boolean;
  showUnit?: (u: Unit) => boolean;
  onClick?: (target: MarkerRef | null, latlng: L.LatLng, where: { x: number; y: number; width: number; height: number }) => void;
  highlight?: string[];
  links?: { from: [number, number]; to: [number, number]; color: string }[];
  /** Markers that are not city entities (a draft report location). */
  extra?: MarkerInput[];
}

/**
 * Keeps a canvas layer in step with the live store without React in the loop: the store tells us
 * which ids changed and only those markers are restyled; React re-renders this component only when
 * the filters or the language change.
 */
export function CityMarkers({ name, showIncident, showUnit, onClick, highlight, links, extra }: CityMarkersProps) {
  const { store } = useCity();
  const names = useNames();
  const { t, tx } = useI18n();
  const layerRef = useRef<CanvasMarkerLayer | null>(null);

  const describe = useRef({ showIncident, showUnit, names, t, tx });
  describe.current = { showIncident, showUnit, names, t, tx };

  const incidentMarker = useCallback((i: Incident): MarkerInput | null => {
    const d = describe.current;
    if (d.showIncident && !d.showIncident(i)) return null;
    return {
      key: incidentKey(i.id),
      lat: i.location.lat,
      lng: i.location.lng,
      style: incidentStyle(i),
      title: `${labelOf(i)} · ${d.t('priority.short', { p: i.priority })} ${d.names.type(i.type)} · ${d.tx(`status.${i.status}`, i.status)}`,
      data: { kind: 'incident', id: i.id } satisfies MarkerRef,
    };
  }, []);

  const unitMarker = useCallback((u: Unit): MarkerInput | null => {
    const d = describe.current;
    if (!u.position || (d.showUnit && !d.showUnit(u))) return null;
    const s = u.readiness === 'out_of_service' ? 'out_of_service' : u.status;
    return {
      key: unitKey(u.id),
      lat: u.position.lat,
      lng: u.position.lng,
      style: unitStyle(u),
      title: `${u.callSign} · ${d.names.agency(u.agency)} · ${d.tx(`unitStatus.${s}`, s)}`,
      label: u.callSign,
      data: { kind: 'unit', id: u.id } satisfies MarkerRef,
    };
  }, []);

  const extraRef = useRef(extra);
  extraRef.current = extra;

  const fullSync = useCallback(() => {
    const layer = layerRef.current;
    if (!layer) return;
    const all: MarkerInput[] = [];
    for (const u of store.units.values()) {
      const m = unitMarker(u);
      if (m) all.push(m);
    }
    for (const i of store.incidents.values()) {
      const m = incidentMarker(i);
      if (m) all.push(m);
    }
    if (extraRef.current) all.push(...extraRef.current);
    layer.replaceAll(all);
  }, [store, unitMarker, incidentMarker]);

  const onReady = useCallback(
    (layer: CanvasMarkerLayer) => {
      layerRef.current = layer;
      fullSync();
      const unsubscribe = store.subscribe((change) => {
        if (change.all) return fullSync();
        for (const id of change.incidents) {
          const i = store.incidents.get(id);
          const m = i && incidentMarker(i);
          if (m) layer.set(m);
          else layer.delete(incidentKey(id));
        }
        for (const id of change.units) {
          const u = store.units.get(id);
          const m = u && unitMarker(u);
          if (m) layer.set(m);
          else layer.delete(unitKey(id));
        }
      });
      return () => {
        unsubscribe();
        layerRef.current = null;
      };
    },
    [store, fullSync, incidentMarker, unitMarker],
  );

  // New filters or a new language: everything may look different.
  useEffect(() => fullSync(), [fullSync, showIncident, showUnit, names, t]);

  useEffect(() => {
    const layer = layerRef.current;
    if (!layer) return;
    for (const key of [...layer.keys()]) if (key.startsWith('x:')) layer.delete(key);
    for (const m of extra ?? []) layer.set(m);
  }, [extra]);

  useEffect(() => layerRef.current?.setHighlight(highlight ?? []), [highlight]);
  useEffect(() => layerRef.current?.setLinks(links ?? []), [links]);

  const handleClick = useCallback(
    (hit: MarkerHit | null, ev: L.LeafletMouseEvent) => {
      const ref = hit?.data as MarkerRef | undefined;
      const size = ev.target?.getSize?.() ?? { x: 0, y: 0 };
      onClick?.(ref && (ref.kind === 'incident' || ref.kind === 'unit') ? ref : null, hit ? hit.latlng : ev.latlng, { x: ev.containerPoint.x, y: ev.containerPoint.y, width: size.x, height: size.y });
    },
    [onClick],
  );

  return <MarkerLayer name={name} onReady={onReady} onClick={handleClick} />;
}
