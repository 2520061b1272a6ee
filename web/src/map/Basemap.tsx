import * as L from 'leaflet';
import { useEffect, useState } from 'react';
import { useMap } from 'react-leaflet';
import { useI18n } from '../i18n/i18n.tsx';
import basemap from './basemap/jian-basemap.json';

export type MapTheme = 'light' | 'dark';

interface BasemapProps {
  tileUrl?: string | null;
  attribution?: string | null;
  theme?: MapTheme;
}

const PALETTE = {
  light: { urban: '#f4f1e8', urbanLine: '#c9c2ad', district: '#8a7f66', river: '#9cc7e6', riverLine: '#6fa8d6', island: '#cfe3c4', road: '#ffffff', roadCase: '#cdc6b3', bridge: '#f7d58b', grid: '#c9d1c2', label: '#4b4636', river_label: '#2f6b9a' },
  dark: { urban: '#13243a', urbanLine: '#2b4566', district: '#4e6d92', river: '#1d4e79', riverLine: '#2d6da5', island: '#1c3a36', road: '#2a3f5c', roadCase: '#1a2b41', bridge: '#6b5a2b', grid: '#1b2f48', label: '#8fb2d8', river_label: '#6fb2ec' },
} as const;

// Extent of the bundled basemap, a little beyond the hand-drawn city.
const GRID_BOUNDS = { south: 26.95, north: 27.3, west: 114.82, east: 115.2 };
const GRID_STEP = 0.02;

/**
 * The city drawn from GeoJSON bundled with the app, under an optional tile layer. With no tile URL
 * configured, or when tiles fail to load (no network in the control room, or in tests), the map still
 * shows the river, the districts and the main roads, and nothing is fetched from anywhere else.
 */
export function Basemap({ tileUrl, attribution, theme = 'light' }: BasemapProps) {
  const map = useMap();
  const { lang, t } = useI18n();
  const [tilesFailed, setTilesFailed] = useState(false);

  useEffect(() => {
    const pal = PALETTE[theme];
    if (!map.getPane('basemap')) {
      const pane = map.createPane('basemap');
      pane.style.zIndex = '150';
      const labels = map.createPane('basemapLabels');
      labels.style.zIndex = '160';
      labels.style.pointerEvents = 'none';
    }
    map.getContainer().style.background = theme === 'dark' ? '#0a1626' : '#e6eadf';
    const renderer = L.svg({ pane: 'basemap', padding: 0.5 });
    const group = L.layerGroup();

    for (let lat = GRID_BOUNDS.south; lat <= GRID_BOUNDS.north + 1e-9; lat += GRID_STEP) {
      group.addLayer(L.polyline([[lat, GRID_BOUNDS.west], [lat, GRID_BOUNDS.east]], { renderer, color: pal.grid, weight: 1, interactive: false, dashArray: '2 4' }));
    }
    for (let lng = GRID_BOUNDS.west; lng <= GRID_BOUNDS.east + 1e-9; lng += GRID_STEP) {
      group.addLayer(L.polyline([[GRID_BOUNDS.south, lng], [GRID_BOUNDS.north, lng]], { renderer, color: pal.grid, weight: 1, interactive: false, dashArray: '2 4' }));
    }

    const order = ['urban', 'district', 'river', 'island', 'road'];
    const features = [...(basemap as GeoJSON.FeatureCollection).features].sort(
      (a, b) => order.indexOf(String(a.properties?.kind)) - order.indexOf(String(b.properties?.kind)),
    );
    for (const f of features) {
      const kind = String(f.properties?.kind);
      if (kind === 'poi') continue;
      if (kind === 'road') {
        const cls = f.properties?.roadClass;
        const w = cls === 'primary' ? 5 : cls === 'bridge' ? 5 : 3.5;
        group.addLayer(L.geoJSON(f, { style: { color: pal.roadCase, weight: w + 2, opacity: 1 }, renderer, interactive: false } as L.GeoJSONOptions));
        group.addLayer(L.geoJSON(f, { style: { color: cls === 'bridge' ? pal.bridge : pal.road, weight: w, opacity: 1 }, renderer, interactive: false } as L.GeoJSONOptions));
        continue;
      }
      const style: L.PathOptions =
        kind === 'urban'
          ? { color: pal.urbanLine, weight: 1.5, fillColor: pal.urban, fillOpacity: 1 }
          : kind === 'district'
            ? { color: pal.district, weight: 2, dashArray: '8 6', fill: false }
            : kind === 'river'
              ? { color: pal.riverLine, weight: 1, fillColor: pal.river, fillOpacity: 1 }
              : { color: pal.riverLine, weight: 1, fillColor: pal.island, fillOpacity: 1 };
      group.addLayer(L.geoJSON(f, { style, renderer, interactive: false } as L.GeoJSONOptions));
    }

    for (const f of features) {
      const p = f.properties ?? {};
      const kind = String(p.kind);
      const at = (p.labelAt as [number, number] | undefined) ?? (f.geometry.type === 'Point' ? (f.geometry.coordinates as [number, number]) : undefined);
      if (!at || (kind !== 'district' && kind !== 'river' && kind !== 'poi' && kind !== 'island')) continue;
      const text = lang === 'zh' ? String(p.name) : String(p.nameEn ?? p.name);
      const cls = `cbd-basemap-label cbd-basemap-label--${kind} cbd-basemap-label--${theme}`;
      group.addLayer(
        L.marker([at[1], at[0]], {
          pane: 'basemapLabels',
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: cls, html: `<span>${escapeHtml(text)}</span>`, iconSize: [0, 0] }),
        }),
      );
    }
    group.addTo(map);
    return () => {
      group.remove();
    };
  }, [map, theme, lang]);

  useEffect(() => {
    if (!tileUrl) return;
    let loaded = 0;
    let failed = 0;
    setTilesFailed(false);
    const tiles = L.tileLayer(tileUrl, { attribution: attribution ?? undefined, maxZoom: 19, crossOrigin: true });
    tiles.on('tileload', () => loaded++);
    tiles.on('tileerror', () => {
      failed++;
      // A handful of failures with nothing loaded means the tile server is unreachable: stop asking.
      if (failed >= 4 && loaded === 0) {
        tiles.remove();
        setTilesFailed(true);
      }
    });
    tiles.addTo(map);
    return () => {
      tiles.remove();
    };
  }, [map, tileUrl, attribution]);

  const offline = !tileUrl || tilesFailed;
  return offline ? (
    <div className="cbd-basemap-badge" data-testid="offline-basemap">
      {t('map.offlineBasemap')}
    </div>
  ) : null;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
