import { reduceCoordination, type Coordination, type IncidentEvent } from '../domain/index.ts';
import type { ProjectedEvent } from './projectedEvent.ts';

/** The incident machine's states once reported ('new' never reaches the board). */
export type IncidentBoardStatus = 'reported' | 'triaged' | 'dispatched' | 'on_scene' | 'resolved' | 'closed' | 'cancelled';

/** One incident_board row; timestamps are kept as the text PostgreSQL gave or will be given, so nothing is rounded. */
export interface IncidentBoardRow {
  id: string;
  status: IncidentBoardStatus;
  type: string;
  priority: number;
  lat: number;
  lng: number;
  address: string | null;
  description: string | null;
  source: string;
  agencies: string[];
  units: string[];
  all_units: string[];
  notes_count: number;
  revision: number;
  reported_at: string;
  triaged_at: string | null;
  first_dispatched_at: string | null;
  first_en_route_at: string | null;
  first_on_scene_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
  cancelled_at: string | null;
  updated_at: string;
  last_seq: number;
  /** Legs, lead, merges, overdue alerts, enforcement case (domain/incident/coordination.ts); null on rows folded before it existed. */
  coordination?: Coordination | null;
}

export const INCIDENT_BOARD_COLUMNS = [
  'id', 'status', 'type', 'priority', 'lat', 'lng', 'address', 'description', 'source', 'agencies', 'units', 'all_units',
  'notes_count', 'revision', 'reported_at', 'triaged_at', 'first_dispatched_at', 'first_en_route_at', 'first_on_scene_at',
  'resolved_at', 'closed_at', 'cancelled_at', 'updated_at', 'last_seq', 'coordination',
] as const satisfies ReadonlyArray<keyof IncidentBoardRow>;

/**
 * Which events each state of incident.machine.ts takes. The machine silently ignores the rest, so the board
 * must too, or it would drift from what the aggregate says (test/projections/machineMirror.test.ts keeps
 * this table honest against the machine).
 */
const WORKING = [
  'IncidentLegClaimed', 'IncidentLeadHandedOver', 'MutualAidRequested', 'MutualAidAccepted', 'MutualAidDeclined', 'IncidentLegCompleted',
  'IncidentStatusOverdue', 'IncidentMergedInto', 'DuplicateIncidentMerged', 'MergedIncidentSplitOff', 'InspectionRecorded',
  'RectificationOrdered', 'ReinspectionRecorded', 'EnforcementCaseClosed', 'EnforcementCaseEscalated',
];
const MERGEABLE = ['IncidentStatusOverdue', 'IncidentMergedInto', 'DuplicateIncidentMerged', 'MergedIncidentSplitOff'];

export const INCIDENT_ACCEPTS: Record<IncidentBoardStatus, ReadonlySet<string>> = {
  reported: new Set(['IncidentTriaged', 'IncidentEscalated', 'IncidentNoteAdded', 'IncidentCancelled', ...MERGEABLE]),
  triaged: new Set(['IncidentTriaged', 'UnitAssignedToIncident', 'IncidentEscalated', 'IncidentNoteAdded', 'IncidentResolved', 'IncidentCancelled', ...WORKING]),
  dispatched: new Set(['UnitAssignedToIncident', 'AssignedUnitStatusChanged', 'IncidentEscalated', 'IncidentNoteAdded', 'IncidentResolved', 'IncidentCancelled', ...WORKING]),
  on_scene: new Set(['UnitAssignedToIncident', 'AssignedUnitStatusChanged', 'IncidentEscalated', 'IncidentNoteAdded', 'IncidentResolved', 'IncidentCancelled', ...WORKING]),
  resolved: new Set(['IncidentClosed', 'IncidentReopened', 'IncidentNoteAdded', 'MergedIncidentSplitOff']),
  closed: new Set(['IncidentReopened']),
  cancelled: new Set(),
};

/** A duplicate merged into another incident shows as closed but is the machine's `merged` state: only a split moves it. */
export const MERGED_ACCEPTS: ReadonlySet<string> = new Set(['IncidentSplitFromPrimary']);

/** The machine state a board row stands for. */
export function machineStateOf(row: Pick<IncidentBoardRow, 'status' | 'coordination'>): IncidentBoardStatus | 'merged' {
  return row.coordination?.mergedInto ? 'merged' : row.status;
}

/** As in the machine: reporting transport or hospital arrival means the unit got to the scene. */
const REACHED_SCENE = new Set(['on_scene', 'transporting', 'at_hospital']);

type Data = Record<string, unknown>;

const asString = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/**
 * Folds one incident event into its board row. Returns the row to keep: a new object, or `row` itself when
 * the event leaves nothing to show (no row yet and not a report). Events the machine would ignore in the
 * current state still move revision, updated_at and last_seq, which describe the stream, not the state.
 */
export function foldIncident(row: IncidentBoardRow | undefined, event: ProjectedEvent): IncidentBoardRow | undefined {
  const d = event.data as Data;
  const at = event.occurredAt;
  if (!row) {
    if (event.type !== 'IncidentReported') return undefined;
    const location = (d.location ?? {}) as { lat?: unknown; lng?: unknown };
    return {
      id: event.entityId,
      status: 'reported',
      type: asString(d.type) ?? 'unknown',
      priority: typeof d.priority === 'number' ? d.priority : 3,
      lat: typeof location.lat === 'number' ? location.lat : 0,
      lng: typeof location.lng === 'number' ? location.lng : 0,
      address: asString(d.address),
      description: asString(d.description),
      source: asString(d.source) ?? 'phone',
      agencies: asStrings(d.agencies),
      units: [],
      all_units: [],
      notes_count: 0,
      revision: event.revision,
      reported_at: at,
      triaged_at: null,
      first_dispatched_at: null,
      first_en_route_at: null,
      first_on_scene_at: null,
      resolved_at: null,
      closed_at: null,
      cancelled_at: null,
      updated_at: at,
      last_seq: event.seq,
      coordination: reduceCoordination(null, event as unknown as IncidentEvent, 'new'),
    };
  }

  const next: IncidentBoardRow = { ...row, revision: event.revision, updated_at: at, last_seq: event.seq };
  const machineState = machineStateOf(row);
  const accepts = machineState === 'merged' ? MERGED_ACCEPTS : INCIDENT_ACCEPTS[machineState];
  if (!accepts.has(event.type)) return next;
  next.coordination = reduceCoordination(row.coordination, event as unknown as IncidentEvent, machineState);

  switch (event.type) {
    case 'IncidentTriaged':
      if (row.status === 'reported') next.status = 'triaged';
      next.triaged_at ??= at;
      if (typeof d.priority === 'number') next.priority = d.priority;
      next.type = asString(d.type) ?? next.type;
      next.agencies = asStrings(d.agencies);
      break;
    case 'IncidentEscalated':
      if (typeof d.priority === 'number') next.priority = d.priority;
      next.agencies = [...next.agencies, ...asStrings(d.agenciesAdded).filter((a) => !next.agencies.includes(a))];
      break;
    case 'UnitAssignedToIncident': {
      const unitId = asString(d.unitId);
      if (row.status === 'triaged') next.status = 'dispatched';
      next.first_dispatched_at ??= at;
      if (unitId !== null) {
        if (!next.all_units.includes(unitId)) next.all_units = [...next.all_units, unitId];
        // The machine keeps units keyed in order of first assignment, so a reassigned unit returns to its old place.
        const active = new Set([...next.units, unitId]);
        next.units = next.all_units.filter((u) => active.has(u));
      }
      break;
    }
    case 'AssignedUnitStatusChanged': {
      const status = asString(d.status);
      const unitId = asString(d.unitId);
      if (status === 'en_route') next.first_en_route_at ??= at;
      if (status !== null && REACHED_SCENE.has(status)) {
        next.first_on_scene_at ??= at;
        if (row.status === 'dispatched') next.status = 'on_scene';
      }
      if (status === 'cleared' && unitId !== null) next.units = next.units.filter((u) => u !== unitId);
      break;
    }
    case 'IncidentNoteAdded':
      next.notes_count += 1;
      break;
    case 'IncidentResolved':
      next.status = 'resolved';
      next.resolved_at = at;
      break;
    case 'IncidentClosed':
      next.status = 'closed';
      next.closed_at = at;
      break;
    case 'IncidentCancelled':
      next.status = 'cancelled';
      next.cancelled_at = at;
      break;
    case 'IncidentReopened':
      next.status = 'triaged';
      next.resolved_at = null;
      next.closed_at = null;
      break;
    case 'MutualAidRequested': {
      const agency = asString(d.agency);
      if (agency !== null && !next.agencies.includes(agency)) next.agencies = [...next.agencies, agency];
      break;
    }
    case 'IncidentMergedInto':
      next.status = 'closed';
      next.closed_at = at;
      break;
    case 'IncidentSplitFromPrimary':
      next.status = row.coordination?.stateBeforeMerge ?? 'reported';
      next.closed_at = null;
      break;
  }
  return next;
}
