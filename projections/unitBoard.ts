import type { ProjectedEvent } from './projectedEvent.ts';

export type UnitBoardReadiness = 'available' | 'out_of_service';
export type UnitBoardStatus = 'idle' | 'dispatched' | 'en_route' | 'on_scene' | 'transporting' | 'at_hospital';

/** One unit_board row; timestamps stay text so a row read back and written again is unchanged. */
export interface UnitBoardRow {
  id: string;
  call_sign: string;
  agency: string;
  unit_type: string;
  home_station: string;
  readiness: UnitBoardReadiness;
  status: UnitBoardStatus;
  incident_id: string | null;
  lat: number | null;
  lng: number | null;
  revision: number;
  status_since: string;
  updated_at: string;
  last_seq: number;
}

export const UNIT_BOARD_COLUMNS = [
  'id', 'call_sign', 'agency', 'unit_type', 'home_station', 'readiness', 'status', 'incident_id', 'lat', 'lng',
  'revision', 'status_since', 'updated_at', 'last_seq',
] as const satisfies ReadonlyArray<keyof UnitBoardRow>;

/**
 * The assignment region of unit.machine.ts: from each status, which event leads where. Anything else is
 * ignored by the machine and so by the board (checked against the machine in machineMirror.test.ts).
 */
export const UNIT_STATUS_MOVES: Record<UnitBoardStatus, Readonly<Record<string, UnitBoardStatus>>> = {
  idle: { UnitDispatched: 'dispatched' },
  dispatched: { UnitEnRoute: 'en_route', UnitArrivedOnScene: 'on_scene', UnitCleared: 'idle', UnitAssignmentReleased: 'idle' },
  en_route: { UnitArrivedOnScene: 'on_scene', UnitCleared: 'idle' },
  on_scene: { UnitTransportingPatient: 'transporting', UnitCleared: 'idle' },
  transporting: { UnitArrivedAtHospital: 'at_hospital', UnitCleared: 'idle' },
  at_hospital: { UnitCleared: 'idle' },
};

/** The readiness region: out of service is allowed whatever the assignment. */
export const UNIT_READINESS_MOVES: Record<UnitBoardReadiness, Readonly<Record<string, UnitBoardReadiness>>> = {
  available: { UnitMarkedOutOfService: 'out_of_service' },
  out_of_service: { UnitReturnedToService: 'available' },
};

type Data = Record<string, unknown>;

const asString = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function position(value: unknown): { lat: number; lng: number } | null {
  if (typeof value !== 'object' || value === null) return null;
  const { lat, lng } = value as { lat?: unknown; lng?: unknown };
  return typeof lat === 'number' && typeof lng === 'number' ? { lat, lng } : null;
}

/** Folds one unit event into its board row; undefined while the unit has not been registered. */
export function foldUnit(row: UnitBoardRow | undefined, event: ProjectedEvent): UnitBoardRow | undefined {
  const d = event.data as Data;
  const at = event.occurredAt;
  if (!row) {
    if (event.type !== 'UnitRegistered') return undefined;
    const where = position(d.position);
    return {
      id: event.entityId,
      call_sign: asString(d.callSign) ?? event.entityId,
      agency: asString(d.agency) ?? 'unknown',
      unit_type: asString(d.unitType) ?? 'unknown',
      home_station: asString(d.homeStation) ?? '',
      readiness: 'available',
      status: 'idle',
      incident_id: null,
      lat: where?.lat ?? null,
      lng: where?.lng ?? null,
      revision: event.revision,
      status_since: at,
      updated_at: at,
      last_seq: event.seq,
    };
  }

  const next: UnitBoardRow = { ...row, revision: event.revision, updated_at: at, last_seq: event.seq };
  if (event.type === 'UnitLocationReported') {
    const where = position(d.position);
    if (where) {
      next.lat = where.lat;
      next.lng = where.lng;
    }
    return next;
  }

  const readiness = UNIT_READINESS_MOVES[row.readiness][event.type];
  if (readiness) {
    next.readiness = readiness;
    next.status_since = at;
    return next;
  }

  // The machine's guard: a unit out of service cannot take an assignment.
  if (event.type === 'UnitDispatched' && row.readiness !== 'available') return next;
  const status = UNIT_STATUS_MOVES[row.status][event.type];
  if (status) {
    next.status = status;
    next.status_since = at;
    next.incident_id = status === 'idle' ? null : (asString(d.incidentId) ?? row.incident_id);
  }
  return next;
}
