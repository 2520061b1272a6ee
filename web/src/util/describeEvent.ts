import type { HistoryEntry } from '../api/types.ts';
import type { Names } from '../config/ConfigContext.tsx';
import type { I18n } from '../i18n/i18n.tsx';

/** Call signs by unit id, learnt from the assignment events earlier in the same history. */
export function callSignsOf(history: readonly HistoryEntry[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const h of history) {
    const d = h.data as { unitId?: string; callSign?: string };
    if (d.unitId && d.callSign) map.set(d.unitId, d.callSign);
  }
  return map;
}

/** One line saying what an event changed, in the reader's language. */
export function describeEvent(h: HistoryEntry, names: Names, i18n: Pick<I18n, 't' | 'tx'>, callSigns: Map<string, string>): string {
  const d = h.data as Record<string, unknown>;
  const { t, tx } = i18n;
  const unit = (id: unknown) => (typeof id === 'string' ? (callSigns.get(id) ?? id.slice(-6)) : '');
  const agencies = (list: unknown) => (Array.isArray(list) ? list.map((a) => names.agency(String(a))).join('、') : '');
  switch (h.type) {
    case 'IncidentReported':
      return [t('priority.short', { p: Number(d.priority) }), names.type(String(d.type)), d.address ? String(d.address) : '', agencies(d.agencies)].filter(Boolean).join(' · ');
    case 'IncidentTriaged':
      return [t('priority.short', { p: Number(d.priority) }), names.type(String(d.type)), agencies(d.agencies)].filter(Boolean).join(' · ');
    case 'IncidentEscalated':
      return [d.priority !== undefined ? t('priority.short', { p: Number(d.priority) }) : '', agencies(d.agenciesAdded)].filter(Boolean).join(' · ');
    case 'UnitAssignedToIncident':
      return `${d.callSign ?? unit(d.unitId)} (${names.agency(String(d.agency))})`;
    case 'AssignedUnitStatusChanged':
      return `${unit(d.unitId)} → ${tx(`unitStatus.${String(d.status)}`, String(d.status))}`;
    case 'IncidentNoteAdded':
      return String(d.text ?? '');
    case 'IncidentResolved':
      return d.summary ? String(d.summary) : '';
    case 'IncidentCancelled':
    case 'IncidentReopened':
      return String(d.reason ?? '');
    case 'UnitAssignmentReleased':
      return String(d.reason ?? '');
    default:
      return '';
  }
}
