// Status timers: how long an incident or a unit may stay in a status. "Overdue" is decided here, by a pure function
// of the facts and an injected `now`; the API turns each answer into one IncidentStatusOverdue event. The machines
// never wait for time themselves (no `after`).
import type { Priority } from '../catalog.ts';
import { isoFromEpochMs } from './time.ts';
import type { OverdueClearsOn, OverdueSubject } from '../incident/incident.events.ts';

export interface StatusTimerRule {
  id: string;
  /** Said to the dispatcher when it fires. */
  label: string;
  subject: OverdueSubject;
  /** Incident statuses (subject incident) or the unit's status on the incident (subject unit). */
  statuses: readonly string[];
  /** Absent: every priority. */
  priorities?: readonly Priority[];
  limitSeconds: number;
  /** For incident rules: which milestone the clock starts at. */
  since?: 'reported' | 'dispatched' | 'on_scene';
  clearsOn: OverdueClearsOn;
}

export const DEFAULT_STATUS_TIMERS: readonly StatusTimerRule[] = [
  { id: 'p1-not-dispatched', label: 'P1 not dispatched within 60 s', subject: 'incident', statuses: ['reported', 'triaged'], priorities: [1], limitSeconds: 60, since: 'reported', clearsOn: 'dispatch' },
  { id: 'p2-not-dispatched', label: 'P2 not dispatched within 3 min', subject: 'incident', statuses: ['reported', 'triaged'], priorities: [2], limitSeconds: 180, since: 'reported', clearsOn: 'dispatch' },
  { id: 'p3-not-dispatched', label: 'P3 not dispatched within 15 min', subject: 'incident', statuses: ['reported', 'triaged'], priorities: [3], limitSeconds: 900, since: 'reported', clearsOn: 'dispatch' },
  { id: 'p1-no-arrival', label: 'P1 dispatched, nobody on scene after 10 min', subject: 'incident', statuses: ['dispatched'], priorities: [1], limitSeconds: 600, since: 'dispatched', clearsOn: 'arrival' },
  { id: 'unit-en-route-long', label: 'Unit en route for over 15 min', subject: 'unit', statuses: ['en_route'], limitSeconds: 900, clearsOn: 'unit_status' },
];

export interface TimerIncident {
  incidentId: string;
  status: string;
  priority: Priority;
  reportedAt: string;
  firstDispatchedAt?: string | null;
  firstOnSceneAt?: string | null;
  /** Units working the incident, with the status they are in and since when. */
  units: ReadonlyArray<{ unitId: string; status: string; since: string }>;
  /** Alerts already raised: "ruleId|unitId|since". */
  raised?: ReadonlySet<string>;
}

export interface DueTimer {
  key: string;
  incidentId: string;
  ruleId: string;
  label: string;
  subject: OverdueSubject;
  unitId?: string;
  status: string;
  since: string;
  dueAt: string;
  limitSeconds: number;
  clearsOn: OverdueClearsOn;
}

export function timerKey(ruleId: string, unitId: string | undefined, since: string): string {
  return `${ruleId}|${unitId ?? ''}|${since}`;
}

function sinceOf(incident: TimerIncident, rule: StatusTimerRule): string | null | undefined {
  if (rule.since === 'dispatched') return incident.firstDispatchedAt;
  if (rule.since === 'on_scene') return incident.firstOnSceneAt;
  return incident.reportedAt;
}

/** Every alert due at `nowMs` (epoch ms, injected) and not raised yet: due means `now` is at or past the start plus the limit. */
export function dueTimers(incidents: readonly TimerIncident[], rules: readonly StatusTimerRule[], nowMs: number): DueTimer[] {
  const out: DueTimer[] = [];
  const t = nowMs;
  for (const incident of incidents) {
    for (const rule of rules) {
      if (rule.priorities && !rule.priorities.includes(incident.priority)) continue;
      const subjects: Array<{ unitId?: string; status: string; since: string | null | undefined }> =
        rule.subject === 'incident'
          ? [{ status: incident.status, since: sinceOf(incident, rule) }]
          : incident.units.map((u) => ({ unitId: u.unitId, status: u.status, since: u.since }));
      for (const s of subjects) {
        if (!rule.statuses.includes(s.status) || !s.since) continue;
        const start = Date.parse(s.since);
        if (Number.isNaN(start) || t < start + rule.limitSeconds * 1000) continue;
        const since = isoFromEpochMs(start);
        const key = timerKey(rule.id, s.unitId, since);
        if (incident.raised?.has(key)) continue;
        out.push({
          key,
          incidentId: incident.incidentId,
          ruleId: rule.id,
          label: rule.label,
          subject: rule.subject,
          ...(s.unitId !== undefined && { unitId: s.unitId }),
          status: s.status,
          since,
          dueAt: isoFromEpochMs(start + rule.limitSeconds * 1000),
          limitSeconds: rule.limitSeconds,
          clearsOn: rule.clearsOn,
        });
      }
    }
  }
  return out;
}
