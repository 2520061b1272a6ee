import type { I18n } from '../i18n/i18n.tsx';

export function formatDuration(ms: number, t: I18n['t']): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t('time.s', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('time.m', { n: m }) + (m < 10 && s % 60 ? ' ' + t('time.s', { n: s % 60 }) : '');
  const h = Math.floor(m / 60);
  if (h < 48) return t('time.h', { n: h }) + (m % 60 ? ' ' + t('time.m', { n: m % 60 }) : '');
  return t('time.d', { n: Math.floor(h / 24) });
}

export function formatTime(iso: string | null | undefined, locale: string, withDate = false): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString(locale, {
    hour12: false,
    ...(withDate ? { year: 'numeric', month: '2-digit', day: '2-digit' } : {}),
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** Minutes with one decimal, or a dash when there is nothing to measure yet. */
export function formatMinutes(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  return (seconds / 60).toFixed(1);
}

export function haversineKm(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const R = 6371;
  const dLat = ((b.lat - a.lat) * Math.PI) / 180;
  const dLng = ((b.lng - a.lng) * Math.PI) / 180;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos((a.lat * Math.PI) / 180) * Math.cos((b.lat * Math.PI) / 180) * Math.sin(dLng / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(s)));
}

/** Mirrors domain/incident/incident.label.ts, whose runtime code the web app may not import. */
export function incidentLabel(id: string): string {
  const hex = id.toLowerCase().replace(/[^0-9a-f]/g, '');
  return hex.length >= 8 ? `INC-${hex.slice(-8)}` : `INC-${id}`;
}
