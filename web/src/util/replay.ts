import type { Agency, HistoryEntry, IncidentStatus, Location } from '../api/types.ts';

export interface ReplayUnit {
  callSign: string;
  agency: string;
  status: string;
}

export interface ReplayState {
  status: IncidentStatus | 'new';
  priority: number;
  type: string;
  location: Location | null;
  address?: string;
  agencies: Agency[];
  units: Record<string, ReplayUnit>;
  notes: string[];
  summary?: string;
  cancelReason?: string;
}

const REACHED_SCENE = new Set(['on_scene', 'transporting', 'at_hospital']);

/**
 * The incident as it stood after each event, folded here from the history alone. It mirrors the
 * domain's evolve() for display only; the server never trusts it.
 */
export function foldHistory(history: readonly HistoryEntry[]): ReplayState[] {
  const states: ReplayState[] = [];
  let s: ReplayState = { status: 'new', priority: 0, type: '', location: null, agencies: [], units: {}, notes: [] };
  for (const h of history) {
    const d = h.data as Record<string, unknown>;
    s = { ...s, units: { ...s.units }, notes: s.notes };
    switch (h.type) {
      case 'IncidentReported':
        s.status = 'reported';
        s.priority = Number(d.priority);
        s.type = String(d.type);
        s.location = (d.location as Location) ?? null;
        s.address = d.address as string | undefined;
        s.agencies = [...((d.agencies as Agency[]) ?? [])];
        break;
      case 'IncidentTriaged':
        if (s.status === 'reported') s.status = 'triaged';
        s.priority = Number(d.priority);
        s.type = String(d.type);
        s.agencies = [...((d.agencies as Agency[]) ?? [])];
        break;
      case 'IncidentEscalated':
        if (d.priority !== undefined) s.priority = Number(d.priority);
        s.agencies = [...new Set([...s.agencies, ...((d.agenciesAdded as Agency[]) ?? [])])];
        break;
      case 'UnitAssignedToIncident':
        if (s.status === 'triaged') s.status = 'dispatched';
        s.units[String(d.unitId)] = { callSign: String(d.callSign ?? d.unitId), agency: String(d.agency ?? ''), status: 'dispatched' };
        break;
      case 'AssignedUnitStatusChanged': {
        const id = String(d.unitId);
        const u = s.units[id];
        if (u) s.units[id] = { ...u, status: String(d.status) };
        if (s.status === 'dispatched' && REACHED_SCENE.has(String(d.status))) s.status = 'on_scene';
        break;
      }
      case 'IncidentNoteAdded':
        s.notes = [...s.notes, String(d.text ?? '')];
        break;
      case 'IncidentResolved':
        s.status = 'resolved';
        s.summary = d.summary as string | undefined;
        break;
      case 'IncidentClosed':
        s.status = 'closed';
        break;
      case 'IncidentCancelled':
        s.status = 'cancelled';
        s.cancelReason = String(d.reason ?? '');
        break;
      case 'IncidentReopened':
        s.status = 'triaged';
        s.summary = undefined;
        break;
      case 'UnitAssignmentReleased': {
        const id = String(d.unitId ?? h.entityId ?? '');
        if (s.units[id]) s.units[id] = { ...s.units[id]!, status: 'cleared' };
        break;
      }
    }
    states.push(s);
  }
  return states;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function historyToCsv(history: readonly HistoryEntry[]): string {
  const cols = ['revision', 'position', 'occurredAt', 'type', 'actor', 'role', 'agency', 'reason', 'data'] as const;
  const lines = [cols.join(',')];
  for (const h of history) lines.push(cols.map((c) => csvCell(h[c])).join(','));
  // The BOM makes spreadsheet programs read the Chinese text as UTF-8.
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

export function download(filename: string, content: string, type: string): void {
  const blob = new Blob([content], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
