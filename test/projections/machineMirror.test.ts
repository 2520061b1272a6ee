// The boards re-implement the machines' state changes as plain tables so a batch folds without XState.
// These tests hold the tables to the machines: every state × event, the board must end where the machine does.
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { ASSIGNED_UNIT_STATUSES, incidentMachine, unitMachine, type IncidentEvent, type UnitEvent } from '../../domain/index.ts';
import { foldIncident, INCIDENT_ACCEPTS, type IncidentBoardRow, type IncidentBoardStatus } from '../../projections/incidentBoard.ts';
import type { ProjectedEvent } from '../../projections/projectedEvent.ts';
import { foldUnit, type UnitBoardReadiness, type UnitBoardRow, type UnitBoardStatus } from '../../projections/unitBoard.ts';

const AT = '2026-03-02T09:00:00.000Z';

function projected(entity: 'incident' | 'unit', event: { type: string; data: unknown }): ProjectedEvent {
  return {
    seq: 2,
    id: '00000000-0000-0000-0000-000000000002',
    streamId: `${entity}-x`,
    revision: 1,
    position: '1/2',
    entity,
    entityId: 'x',
    incidentId: null,
    type: event.type,
    data: event.data,
    actor: 'a',
    role: 'dispatcher',
    agency: 'fire',
    commandId: 'c',
    correlationId: 'x',
    causationId: 'c',
    requestId: null,
    reason: null,
    occurredAt: AT,
    recordedAt: AT,
  };
}

const INCIDENT_EVENTS: IncidentEvent[] = [
  { type: 'IncidentTriaged', data: { priority: 2, type: 'fire', agencies: ['fire', 'ems'] } },
  { type: 'IncidentEscalated', data: { priority: 1, agenciesAdded: ['police'] } },
  { type: 'UnitAssignedToIncident', data: { unitId: 'u2', agency: 'fire', callSign: 'F2' } },
  ...ASSIGNED_UNIT_STATUSES.map((status): IncidentEvent => ({ type: 'AssignedUnitStatusChanged', data: { unitId: 'u1', status } })),
  { type: 'IncidentNoteAdded', data: { text: 'note' } },
  { type: 'IncidentResolved', data: {} },
  { type: 'IncidentClosed', data: {} },
  { type: 'IncidentCancelled', data: { reason: 'r' } },
  { type: 'IncidentReopened', data: { reason: 'r' } },
];

const STATUSES = Object.keys(INCIDENT_ACCEPTS) as IncidentBoardStatus[];

describe('incident_board mirrors incident.machine.ts', () => {
  for (const status of STATUSES) {
    for (const event of INCIDENT_EVENTS) {
      const label = event.type === 'AssignedUnitStatusChanged' ? `${event.type}(${event.data.status})` : event.type;
      it(`${status} + ${label}`, () => {
        const snapshot = incidentMachine.resolveState({
          value: status,
          context: {
            incident: { incidentId: 'x', type: 'fire', priority: 3, location: { lat: 1, lng: 2 }, source: 'phone', agencies: ['fire'] },
            units: { u1: { agency: 'fire', callSign: 'F1', status: 'dispatched' } },
            noteCount: 0,
            escalationCount: 0,
            reopenCount: 0,
          },
        });
        const [after] = transition(incidentMachine, snapshot, event);
        const row: IncidentBoardRow = {
          id: 'x', status, type: 'fire', priority: 3, lat: 1, lng: 2, address: null, description: null, source: 'phone',
          agencies: ['fire'], units: ['u1'], all_units: ['u1'], notes_count: 0, revision: 0, reported_at: AT, triaged_at: null,
          first_dispatched_at: null, first_en_route_at: null, first_on_scene_at: null, resolved_at: null, closed_at: null,
          cancelled_at: null, updated_at: AT, last_seq: 1,
        };
        const folded = foldIncident(row, projected('incident', event))!;
        expect(INCIDENT_ACCEPTS[status].has(event.type)).toBe(snapshot.can(event));
        expect(folded.status).toBe(after.value);
        expect(folded.priority).toBe(after.context.incident!.priority);
        expect(folded.agencies).toEqual(after.context.incident!.agencies);
        expect(folded.notes_count).toBe(after.context.noteCount);
        expect(folded.all_units).toEqual(Object.keys(after.context.units));
        expect(folded.units).toEqual(Object.entries(after.context.units).filter(([, u]) => u.status !== 'cleared').map(([id]) => id));
        // Whatever the machine did with it, the event is the stream's latest.
        expect(folded).toMatchObject({ revision: 1, last_seq: 2, updated_at: AT });
      });
    }
  }
});

const UNIT_EVENTS: UnitEvent[] = [
  { type: 'UnitMarkedOutOfService', data: { reason: 'r' } },
  { type: 'UnitReturnedToService', data: {} },
  { type: 'UnitDispatched', data: { incidentId: 'i2' } },
  { type: 'UnitEnRoute', data: { incidentId: 'i1' } },
  { type: 'UnitArrivedOnScene', data: { incidentId: 'i1' } },
  { type: 'UnitTransportingPatient', data: { incidentId: 'i1', destination: 'H' } },
  { type: 'UnitArrivedAtHospital', data: { incidentId: 'i1' } },
  { type: 'UnitCleared', data: { incidentId: 'i1' } },
  { type: 'UnitAssignmentReleased', data: { incidentId: 'i1', reason: 'r' } },
  { type: 'UnitLocationReported', data: { position: { lat: 5, lng: 6 } } },
];

const READINESS: UnitBoardReadiness[] = ['available', 'out_of_service'];
const UNIT_STATUSES: UnitBoardStatus[] = ['idle', 'dispatched', 'en_route', 'on_scene', 'transporting', 'at_hospital'];

describe('unit_board mirrors unit.machine.ts', () => {
  for (const readiness of READINESS) {
    for (const status of UNIT_STATUSES) {
      for (const event of UNIT_EVENTS) {
        it(`${readiness}/${status} + ${event.type}`, () => {
          const incidentId = status === 'idle' ? undefined : 'i1';
          const snapshot = unitMachine.resolveState({
            value: { registered: { readiness, assignment: status } },
            context: {
              unit: { unitId: 'x', agency: 'fire', callSign: 'F1', unitType: 'engine', homeStation: 'S' },
              position: { lat: 1, lng: 2 },
              ...(incidentId && { incidentId }),
            },
          });
          const [after] = transition(unitMachine, snapshot, event);
          const value = after.value as { registered: { readiness: string; assignment: string } };
          const row: UnitBoardRow = {
            id: 'x', call_sign: 'F1', agency: 'fire', unit_type: 'engine', home_station: 'S', readiness, status,
            incident_id: incidentId ?? null, lat: 1, lng: 2, revision: 0, status_since: '2026-03-02T08:00:00.000Z', updated_at: AT, last_seq: 1,
          };
          const folded = foldUnit(row, projected('unit', event))!;
          expect({ readiness: folded.readiness, status: folded.status, incident_id: folded.incident_id, lat: folded.lat, lng: folded.lng }).toEqual({
            readiness: value.registered.readiness,
            status: value.registered.assignment,
            incident_id: after.context.incidentId ?? null,
            lat: after.context.position?.lat ?? null,
            lng: after.context.position?.lng ?? null,
          });
          const changed = folded.readiness !== readiness || folded.status !== status;
          expect(folded.status_since).toBe(changed ? AT : row.status_since);
        });
      }
    }
  }
});
