import 'leaflet/dist/leaflet.css';
import * as L from 'leaflet';
import { useEffect, useRef, type ReactNode } from 'react';
import { MapContainer, useMap } from 'react-leaflet';
import { useConfig } from '../config/ConfigContext.tsx';
import { Basemap, type MapTheme } from './Basemap.tsx';
import { CanvasMarkerLayer, type CanvasMarkerLayerOptions, type MarkerHit } from './CanvasMarkerLayer.ts';

export const JIAN_CENTER: [number, number] = [27.11, 114.99];

interface MapViewProps {
  children?: ReactNode;
  center?: [number, number];
  zoom?: number;
  theme?: MapTheme;
  testId?: string;
  className?: string;
  zoomControl?: boolean;
}

export function MapView({ children, center, zoom = 13, theme = 'light', testId = 'map', className, zoomControl = true }: MapViewProps) {
  const config = useConfig();
  const start: [number, number] = center ?? (config.center ? [config.center.lat, config.center.lng] : JIAN_CENTER);
  return (
    <div className={`cbd-map ${className ?? ''}`} data-testid={testId}>
      <MapContainer center={start} zoom={zoom} minZoom={10} maxZoom={19} zoomControl={zoomControl} attributionControl={!!config.tileUrl} style={{ width: '100%', height: '100%' }}>
        <Basemap tileUrl={config.tileUrl} attribution={config.tileAttribution} theme={theme} />
        <MapSizeWatcher />
        {children}
      </MapContainer>
    </div>
  );
}

/** Leaflet measures its container once; panels opening and closing change it, so tell it. */
function MapSizeWatcher() {
  const map = useMap();
  useEffect(() => {
    const ro = new ResizeObserver(() => map.invalidateSize({ debounceMoveend: true }));
    ro.observe(map.getContainer());
    return () => ro.disconnect();
  }, [map]);
  return null;
}

interface TestHook {
  pointOf(key: string): { x: number; y: number } | null;
  styleOf(key: string): unknown;
  keys(): string[];
  /** Redraws shown (each shows every marker as it is now), and how long the last one took. */
  draws(): number;
  /** Of those, the ones that repainted the whole canvas rather than only the squares that changed. */
  wholeDraws(): number;
  lastDrawMs(): number;
  /** Every change given to the layer is on screen: frames come from a worker, a moment after the change. */
  caughtUp(): boolean;
  /** 'worker' where a worker draws the markers, 'main' where the page's thread does (no OffscreenCanvas). */
  drawnOn(): 'worker' | 'main' | null;
  /** Page coordinates of a marker, for a test to click it like a person would. */
  pagePointOf(key: string): { x: number; y: number } | null;
  map: L.Map;
}

declare global {
  interface Window {
    __cbdMaps?: Record<string, TestHook>;
  }
}

/**
 * Mounts one CanvasMarkerLayer on the surrounding map and hands it to `onReady`. The layer is created
 * once per map; the click handler is read through a ref so a re-render never rebuilds the layer.
 */
export function MarkerLayer({
  name,
  onReady,
  onClick,
  options,
}: {
  name: string;
  onReady: (layer: CanvasMarkerLayer, map: L.Map) => void | (() => void);
  onClick?: (hit: MarkerHit | null, ev: L.LeafletMouseEvent) => void;
  options?: Omit<CanvasMarkerLayerOptions, 'onClick'>;
}) {
  const map = useMap();
  const clickRef = useRef(onClick);
  clickRef.current = onClick;
  const readyRef = useRef(onReady);
  readyRef.current = onReady;

  useEffect(() => {
    const layer = new CanvasMarkerLayer({ ...options, onClick: (hit, ev) => clickRef.current?.(hit, ev) });
    layer.addTo(map);
    const cleanup = readyRef.current(layer, map);
    const hooks = (window.__cbdMaps ??= {});
    hooks[name] = {
      pointOf: (key) => layer.containerPointOf(key),
      styleOf: (key) => layer.styleOf(key),
      keys: () => [...layer.keys()],
      draws: () => layer.draws,
      wholeDraws: () => layer.wholeDraws,
      lastDrawMs: () => layer.lastDrawMs,
      caughtUp: () => layer.caughtUp(),
      drawnOn: () => layer.drawnOn,
      pagePointOf: (key) => {
        const p = layer.containerPointOf(key);
        if (!p) return null;
        const rect = map.getContainer().getBoundingClientRect();
        return { x: rect.left + p.x, y: rect.top + p.y };
      },
      map,
    };
    return () => {
      if (typeof cleanup === 'function') cleanup();
      layer.remove();
      if (hooks[name]?.map === map) delete hooks[name];
    };
    // The layer lives as long as the map; options are read once on purpose.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [map, name]);
  return null;
}
