import { assign, setup } from 'xstate';
import type { Agency, IncidentSource, IncidentType, Location, Priority } from '../catalog.ts';
import type { AssignedUnitStatus, IncidentEvent, ReporterContact } from './incident.events.ts';

export type AssignmentStatus = 'dispatched' | AssignedUnitStatus;

/** Order of a unit's progress on one incident; a status may only move forward, cleared ends it. */
export const ASSIGNMENT_STATUS_ORDER: readonly AssignmentStatus[] = ['dispatched', 'en_route', 'on_scene', 'transporting', 'at_hospital', 'cleared'];

export interface AssignedUnit {
  agency: Agency;
  callSign: string;
  status: AssignmentStatus;
}

export interface IncidentDetails {
  incidentId: string;
  type: IncidentType;
  priority: Priority;
  location: Location;
  address?: string;
  description?: string;
  source: IncidentSource;
  reporter?: ReporterContact;
  agencies: Agency[];
}

export interface IncidentContext {
  /** Null only before IncidentReported: until then the incident does not exist. */
  incident: IncidentDetails | null;
  /** Every unit ever assigned, cleared ones included, so the record shows who came. */
  units: Record<string, AssignedUnit>;
  noteCount: number;
  escalationCount: number;
  reopenCount: number;
  summary?: string;
  cancelReason?: string;
  reopenReason?: string;
}

export const INCIDENT_STATES = ['new', 'reported', 'triaged', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled'] as const;
export type IncidentStateName = (typeof INCIDENT_STATES)[number];

type DataOf<T extends IncidentEvent['type']> = Extract<IncidentEvent, { type: T }>['data'];

// A unit reporting transport or hospital arrival has obviously reached the scene, even if the
// on_scene report itself was skipped.
const REACHED_SCENE: readonly AssignedUnitStatus[] = ['on_scene', 'transporting', 'at_hospital'];

function patchIncident(context: IncidentContext, changes: Partial<IncidentDetails>): IncidentDetails | null {
  return context.incident ? { ...context.incident, ...changes } : null;
}

export const incidentMachine = setup({
  types: {
    context: {} as IncidentContext,
    events: {} as IncidentEvent,
  },
  actions: {
    recordReport: assign((_, d: DataOf<'IncidentReported'>) => ({
      incident: { ...d, location: { ...d.location }, agencies: [...d.agencies] },
    })),
    recordTriage: assign(({ context }, d: DataOf<'IncidentTriaged'>) => ({
      incident: patchIncident(context, { priority: d.priority, type: d.type, agencies: [...d.agencies] }),
    })),
    recordEscalation: assign(({ context }, d: DataOf<'IncidentEscalated'>) => ({
      escalationCount: context.escalationCount + 1,
      incident: patchIncident(context, {
        ...(d.priority !== undefined ? { priority: d.priority } : {}),
        agencies: [...(context.incident?.agencies ?? []), ...d.agenciesAdded.filter((a) => !context.incident?.agencies.includes(a))],
      }),
    })),
    recordAssignment: assign(({ context }, d: DataOf<'UnitAssignedToIncident'>) => ({
      units: { ...context.units, [d.unitId]: { agency: d.agency, callSign: d.callSign, status: 'dispatched' as const } },
    })),
    recordUnitStatus: assign(({ context }, d: DataOf<'AssignedUnitStatusChanged'>) => {
      const unit = context.units[d.unitId];
      return unit ? { units: { ...context.units, [d.unitId]: { ...unit, status: d.status } } } : {};
    }),
    countNote: assign(({ context }) => ({ noteCount: context.noteCount + 1 })),
    recordResolution: assign((_, d: DataOf<'IncidentResolved'>) => ({ summary: d.summary })),
    recordCancellation: assign((_, d: DataOf<'IncidentCancelled'>) => ({ cancelReason: d.reason })),
    recordReopening: assign(({ context }, d: DataOf<'IncidentReopened'>) => ({
      reopenCount: context.reopenCount + 1,
      reopenReason: d.reason,
      summary: undefined,
    })),
  },
  guards: {
    unitReachedScene: (_, p: { status: AssignedUnitStatus }) => REACHED_SCENE.includes(p.status),
  },
}).createMachine({
  id: 'incident',
  initial: 'new',
  context: { incident: null, units: {}, noteCount: 0, escalationCount: 0, reopenCount: 0 },
  states: {
    new: {
      on: {
        IncidentReported: { target: 'reported', actions: { type: 'recordReport', params: ({ event }) => event.data } },
      },
    },
    reported: {
      on: {
        IncidentTriaged: { target: 'triaged', actions: { type: 'recordTriage', params: ({ event }) => event.data } },
        IncidentEscalated: { actions: { type: 'recordEscalation', params: ({ event }) => event.data } },
        IncidentNoteAdded: { actions: 'countNote' },
        IncidentCancelled: { target: 'cancelled', actions: { type: 'recordCancellation', params: ({ event }) => event.data } },
      },
    },
    triaged: {
      on: {
        IncidentTriaged: { actions: { type: 'recordTriage', params: ({ event }) => event.data } },
        UnitAssignedToIncident: { target: 'dispatched', actions: { type: 'recordAssignment', params: ({ event }) => event.data } },
        IncidentEscalated: { actions: { type: 'recordEscalation', params: ({ event }) => event.data } },
        IncidentNoteAdded: { actions: 'countNote' },
        IncidentResolved: { target: 'resolved', actions: { type: 'recordResolution', params: ({ event }) => event.data } },
        IncidentCancelled: { target: 'cancelled', actions: { type: 'recordCancellation', params: ({ event }) => event.data } },
      },
    },
    dispatched: {
      on: {
        UnitAssignedToIncident: { actions: { type: 'recordAssignment', params: ({ event }) => event.data } },
        AssignedUnitStatusChanged: [
          {
            guard: { type: 'unitReachedScene', params: ({ event }) => ({ status: event.data.status }) },
            target: 'on_scene',
            actions: { type: 'recordUnitStatus', params: ({ event }) => event.data },
          },
          { actions: { type: 'recordUnitStatus', params: ({ event }) => event.data } },
        ],
        IncidentEscalated: { actions: { type: 'recordEscalation', params: ({ event }) => event.data } },
        IncidentNoteAdded: { actions: 'countNote' },
        IncidentResolved: { target: 'resolved', actions: { type: 'recordResolution', params: ({ event }) => event.data } },
        IncidentCancelled: { target: 'cancelled', actions: { type: 'recordCancellation', params: ({ event }) => event.data } },
      },
    },
    on_scene: {
      on: {
        UnitAssignedToIncident: { actions: { type: 'recordAssignment', params: ({ event }) => event.data } },
        AssignedUnitStatusChanged: { actions: { type: 'recordUnitStatus', params: ({ event }) => event.data } },
        IncidentEscalated: { actions: { type: 'recordEscalation', params: ({ event }) => event.data } },
        IncidentNoteAdded: { actions: 'countNote' },
        IncidentResolved: { target: 'resolved', actions: { type: 'recordResolution', params: ({ event }) => event.data } },
        IncidentCancelled: { target: 'cancelled', actions: { type: 'recordCancellation', params: ({ event }) => event.data } },
      },
    },
    resolved: {
      on: {
        IncidentClosed: { target: 'closed' },
        IncidentReopened: { target: 'triaged', actions: { type: 'recordReopening', params: ({ event }) => event.data } },
        IncidentNoteAdded: { actions: 'countNote' },
      },
    },
    closed: {
      on: {
        IncidentReopened: { target: 'triaged', actions: { type: 'recordReopening', params: ({ event }) => event.data } },
      },
    },
    cancelled: { type: 'final' },
  },
});
