import { ACTIVE_STATUSES, type Incident, type Recommendation, type Unit, type UnitTypeConfig } from '../api/types.ts';
import { haversineKm, incidentLabel } from './format.ts';

/**
 * How long an incident of each priority may wait for its first unit before the queue flags it.
 * P1 is a life at risk now; P5 is a case for the next working day.
 */
export const DISPATCH_DEADLINE_S: Record<number, number> = { 1: 60, 2: 180, 3: 600, 4: 1800, 5: 7200 };

export function isActive(i: Pick<Incident, 'status'>): boolean {
  return ACTIVE_STATUSES.includes(i.status);
}

export function isUndispatched(i: Pick<Incident, 'status'>): boolean {
  return i.status === 'reported' || i.status === 'triaged';
}

export function ageMs(i: Pick<Incident, 'reportedAt'>, now: number): number {
  return now - new Date(i.reportedAt).getTime();
}

export function isOverdue(i: Incident, now: number): boolean {
  // The server's status timers (issue 6) have the last word once one has fired.
  if ((i.overdue?.length ?? 0) > 0) return true;
  if (!isUndispatched(i)) return false;
  return ageMs(i, now) > (DISPATCH_DEADLINE_S[i.priority] ?? 3600) * 1000;
}

/** Most urgent first, then the one waiting longest. */
export function compareQueue(a: Incident, b: Incident): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  // The API's times are all toISOString() (UTC, fixed width), so text order is time order: a 10,000-row
  // re-sort then parses no dates at all.
  return a.reportedAt < b.reportedAt ? -1 : a.reportedAt > b.reportedAt ? 1 : 0;
}

export function labelOf(i: Pick<Incident, 'id' | 'label'>): string {
  return i.label ?? incidentLabel(i.id);
}

export function isAvailable(u: Unit): boolean {
  return u.readiness === 'available' && u.status === 'idle' && !u.incidentId;
}

/**
 * Until the API's own recommendations exist: available units of the agencies the incident needs,
 * nearest first by straight-line distance, with an ETA from the unit type's typical speed.
 */
export function recommendUnits(incident: Incident, units: Iterable<Unit>, unitTypes: UnitTypeConfig[], limit = 30): Recommendation[] {
  const speed = new Map(unitTypes.map((t) => [t.id, t.speedKmh ?? 40]));
  const out: Recommendation[] = [];
  for (const u of units) {
    if (!isAvailable(u) || !u.position || !incident.agencies.includes(u.agency)) continue;
    const distanceKm = haversineKm(incident.location, u.position);
    // Roads wind: 1.3 × the straight line is the usual urban detour factor.
    const etaMinutes = Math.max(1, Math.round(((distanceKm * 1.3) / (speed.get(u.type) ?? 40)) * 60));
    out.push({ unitId: u.id, agency: u.agency, type: u.type, distanceKm, etaMinutes, reason: 'nearest available' });
  }
  out.sort((a, b) => a.distanceKm - b.distanceKm);
  return out.slice(0, limit);
}
