// The multi-agency side of an incident: one leg per agency with its owner and units, the lead agency, mutual aid,
// duplicates merged in, overdue alerts and the enforcement case. A plain JSON value folded by one pure reducer, so
// the machine (in its context) and the incident board (in a jsonb column) hold exactly the same picture.
import type { Agency, IncidentType, Priority, UnitType } from '../catalog.ts';
import { responsePlan, type UnitRequirement } from '../plans/runCards.ts';
import type { IncidentEvent, MergedReport, OverdueClearsOn, OverdueSubject } from './incident.events.ts';

export type CoordinationUnitStatus = 'dispatched' | 'en_route' | 'on_scene' | 'transporting' | 'at_hospital' | 'cleared';

export interface CoordinationUnit {
  agency: Agency;
  callSign: string;
  unitType?: UnitType;
  status: CoordinationUnitStatus;
}

/** What was said about a leg explicitly; its working status comes from its units. */
export interface LegRecord {
  owner?: string;
  /** requested: mutual aid asked for, not answered yet; declined: refused; done: the agency finished its part. */
  phase?: 'requested' | 'declined' | 'done';
  requestedBy?: Agency;
  note?: string;
  declineReason?: string;
  summary?: string;
}

export interface OverdueItem {
  ruleId: string;
  subject: OverdueSubject;
  unitId?: string;
  status: string;
  since: string;
  dueAt: string;
  limitSeconds: number;
  clearsOn: OverdueClearsOn;
}

export type EnforcementStage = 'inspected' | 'rectification_ordered' | 'reinspected' | 'closed' | 'escalated';

export interface EnforcementCase {
  stage: EnforcementStage;
  findings?: string;
  violationFound?: boolean;
  requirements?: string;
  deadlineDays?: number;
  orderedAt?: string;
  dueAt?: string;
  reinspection?: { compliant: boolean; findings: string };
  outcome?: 'rectified' | 'no_violation';
  escalationReason?: string;
}

/** The machine states a merged incident can return to when it is split off again. */
export type RestorableState = 'reported' | 'triaged' | 'dispatched' | 'on_scene';

export interface Coordination {
  /** Absent until the incident is reported; then the type's first agency unless handed over. */
  lead?: Agency;
  legs: Partial<Record<Agency, LegRecord>>;
  /** Every unit ever assigned, as the legs count them. */
  units: Record<string, CoordinationUnit>;
  overdue: OverdueItem[];
  /** Duplicates merged into this incident, each with the reports and notes it brought. */
  merged: Array<{ incidentId: string; reports: MergedReport[]; notes: string[] }>;
  mergedInto?: string;
  stateBeforeMerge?: RestorableState;
  enforcement?: EnforcementCase;
}

export function emptyCoordination(): Coordination {
  return { legs: {}, units: {}, overdue: [], merged: [] };
}

const REACHED_SCENE = new Set(['on_scene', 'transporting', 'at_hospital']);

function withLeg(c: Coordination, agency: Agency, patch: Partial<LegRecord>): Coordination {
  return { ...c, legs: { ...c.legs, [agency]: { ...c.legs[agency], ...patch } } };
}

/**
 * Folds one incident event that the incident's state accepted. `stateName` is the state the event leaves
 * (only IncidentMergedInto needs it: the state to restore on a split).
 */
export function reduceCoordination(current: Coordination | undefined | null, event: IncidentEvent, stateName?: string): Coordination {
  const c: Coordination = { ...emptyCoordination(), ...(current ?? {}) };
  switch (event.type) {
    case 'IncidentReported':
      return { ...c, lead: event.data.agencies[0] };
    case 'IncidentTriaged':
      // The type's lead agency leads unless someone has already handed the lead over.
      return c.lead && event.data.agencies.includes(c.lead) ? c : { ...c, lead: event.data.agencies[0] };
    case 'UnitAssignedToIncident': {
      const { unitId, agency, callSign, unitType } = event.data;
      const unit: CoordinationUnit = { agency, callSign, status: 'dispatched', ...(unitType !== undefined && { unitType }) };
      // A leg that was done opens again when its agency sends another unit.
      const legs = c.legs[agency]?.phase === 'done' ? { ...c.legs, [agency]: { ...c.legs[agency], phase: undefined } } : c.legs;
      return { ...c, legs: clean(legs), units: { ...c.units, [unitId]: unit }, overdue: c.overdue.filter((o) => o.clearsOn !== 'dispatch') };
    }
    case 'AssignedUnitStatusChanged': {
      const { unitId, status } = event.data;
      const unit = c.units[unitId];
      const overdue = c.overdue.filter((o) => !(o.unitId === unitId) && !(REACHED_SCENE.has(status) && o.clearsOn === 'arrival'));
      return { ...c, overdue, ...(unit && { units: { ...c.units, [unitId]: { ...unit, status } } }) };
    }
    case 'IncidentResolved':
    case 'IncidentCancelled':
    case 'IncidentClosed':
      return { ...c, overdue: [] };
    case 'IncidentLegClaimed':
      return withLeg(c, event.data.agency, { owner: event.data.owner });
    case 'IncidentLeadHandedOver':
      return { ...c, lead: event.data.to };
    case 'MutualAidRequested':
      return withLeg(c, event.data.agency, {
        phase: 'requested',
        requestedBy: event.data.requestedBy,
        ...(event.data.note !== undefined && { note: event.data.note }),
      });
    case 'MutualAidAccepted':
      return withLeg(c, event.data.agency, { phase: undefined, owner: event.data.owner });
    case 'MutualAidDeclined':
      return withLeg(c, event.data.agency, { phase: 'declined', declineReason: event.data.reason });
    case 'IncidentLegCompleted':
      return withLeg(c, event.data.agency, { phase: 'done', ...(event.data.summary !== undefined && { summary: event.data.summary }) });
    case 'IncidentStatusOverdue':
      return { ...c, overdue: [...c.overdue, { ...event.data }] };
    case 'IncidentMergedInto':
      return {
        ...c,
        mergedInto: event.data.primaryId,
        overdue: [],
        ...(isRestorable(stateName) && { stateBeforeMerge: stateName }),
      };
    case 'IncidentSplitFromPrimary': {
      const { mergedInto: _m, stateBeforeMerge: _s, ...rest } = c;
      return { ...emptyCoordination(), ...rest };
    }
    case 'DuplicateIncidentMerged':
      return {
        ...c,
        merged: [...c.merged.filter((m) => m.incidentId !== event.data.duplicateId), { incidentId: event.data.duplicateId, reports: event.data.reports, notes: event.data.notes }],
      };
    case 'MergedIncidentSplitOff':
      return { ...c, merged: c.merged.filter((m) => m.incidentId !== event.data.duplicateId) };
    case 'InspectionRecorded':
      return { ...c, enforcement: { stage: 'inspected', findings: event.data.findings, violationFound: event.data.violationFound } };
    case 'RectificationOrdered':
      return { ...c, enforcement: { ...c.enforcement, stage: 'rectification_ordered', ...event.data } };
    case 'ReinspectionRecorded':
      return { ...c, enforcement: { ...c.enforcement, stage: 'reinspected', reinspection: { ...event.data } } };
    case 'EnforcementCaseClosed':
      return { ...c, enforcement: { ...c.enforcement, stage: 'closed', outcome: event.data.outcome } };
    case 'EnforcementCaseEscalated':
      return { ...c, enforcement: { ...c.enforcement, stage: 'escalated', escalationReason: event.data.reason } };
    default:
      return c;
  }
}

function isRestorable(state: string | undefined): state is RestorableState {
  return state === 'reported' || state === 'triaged' || state === 'dispatched' || state === 'on_scene';
}

function clean(legs: Partial<Record<Agency, LegRecord>>): Partial<Record<Agency, LegRecord>> {
  return Object.fromEntries(
    Object.entries(legs).map(([agency, leg]) => [agency, Object.fromEntries(Object.entries(leg ?? {}).filter(([, v]) => v !== undefined))]),
  ) as Partial<Record<Agency, LegRecord>>;
}

// ---- the picture clients see ----

/** pending: no unit yet; dispatched / on_scene: units working; cleared: every unit cleared, not yet declared done. */
export type LegStatus = 'requested' | 'declined' | 'pending' | 'dispatched' | 'on_scene' | 'cleared' | 'done';

export interface LegView {
  agency: Agency;
  status: LegStatus;
  lead: boolean;
  owner: string | null;
  /** Units of this agency ever assigned, with their status on the incident. */
  units: Array<{ unitId: string; callSign: string; unitType?: UnitType; status: CoordinationUnitStatus }>;
  /** From the response plan for the incident's type and priority. */
  required: UnitRequirement[];
  /** What the plan asks for that has not been assigned yet. */
  missing: UnitRequirement[];
  requestedBy?: Agency;
  note?: string;
  declineReason?: string;
  summary?: string;
}

export interface CoordinationView {
  lead: Agency | null;
  planId: string;
  legs: LegView[];
  /** Summed over the legs that still count (not declined). */
  missing: Array<UnitRequirement & { agency: Agency }>;
  overdue: OverdueItem[];
  mergedInto: string | null;
  mergedFrom: string[];
  mergedReports: MergedReport[];
  mergedNotes: string[];
  enforcement: EnforcementCase | null;
}

function legStatus(record: LegRecord | undefined, units: ReadonlyArray<{ status: CoordinationUnitStatus }>): LegStatus {
  if (record?.phase) return record.phase;
  if (units.length === 0) return 'pending';
  const working = units.filter((u) => u.status !== 'cleared');
  if (working.length === 0) return 'cleared';
  return working.some((u) => REACHED_SCENE.has(u.status)) ? 'on_scene' : 'dispatched';
}

/** Legs for every agency the incident involves, in the incident's own order, with the plan applied. */
export function coordinationView(c: Coordination | undefined | null, incident: { type: IncidentType; priority: Priority; agencies: readonly Agency[] }): CoordinationView {
  const coord: Coordination = { ...emptyCoordination(), ...(c ?? {}) };
  const plan = responsePlan(incident.type, incident.priority);
  const agencies = [...incident.agencies];
  for (const u of Object.values(coord.units)) if (!agencies.includes(u.agency)) agencies.push(u.agency);
  for (const a of Object.keys(coord.legs) as Agency[]) if (!agencies.includes(a)) agencies.push(a);
  const legs = agencies.map((agency): LegView => {
    const record = coord.legs[agency];
    const units = Object.entries(coord.units)
      .filter(([, u]) => u.agency === agency)
      .map(([unitId, u]) => ({ unitId, callSign: u.callSign, status: u.status, ...(u.unitType !== undefined && { unitType: u.unitType }) }));
    const required = plan.agencies.find((p) => p.agency === agency)?.units ?? [];
    const status = legStatus(record, units);
    const missing =
      status === 'declined' || status === 'done'
        ? []
        : required
            .map((r) => ({ unitType: r.unitType, count: r.count - units.filter((u) => u.unitType === r.unitType).length }))
            .filter((r) => r.count > 0);
    return {
      agency,
      status,
      lead: coord.lead === agency,
      owner: record?.owner ?? null,
      units,
      required,
      missing,
      ...(record?.requestedBy !== undefined && { requestedBy: record.requestedBy }),
      ...(record?.note !== undefined && { note: record.note }),
      ...(record?.declineReason !== undefined && { declineReason: record.declineReason }),
      ...(record?.summary !== undefined && { summary: record.summary }),
    };
  });
  return {
    lead: coord.lead ?? null,
    planId: plan.id,
    legs,
    missing: legs.flatMap((l) => l.missing.map((m) => ({ agency: l.agency, ...m }))),
    overdue: coord.overdue,
    mergedInto: coord.mergedInto ?? null,
    mergedFrom: coord.merged.map((m) => m.incidentId),
    mergedReports: coord.merged.flatMap((m) => m.reports),
    mergedNotes: coord.merged.flatMap((m) => m.notes),
    enforcement: coord.enforcement ?? null,
  };
}

/** Legs that still have to finish for the incident to resolve: not declined, not done. */
export function openLegs(view: CoordinationView): LegView[] {
  return view.legs.filter((l) => l.status !== 'declined' && l.status !== 'done');
}

export const ENFORCEMENT_TYPES: readonly IncidentType[] = ['work_safety_violation', 'illegal_construction', 'urban_management'];
