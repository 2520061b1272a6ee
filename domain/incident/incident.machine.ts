import { assign, setup } from 'xstate';
import type { Agency, IncidentSource, IncidentType, Location, Priority } from '../catalog.ts';
import { reduceCoordination, type Coordination, type RestorableState } from './coordination.ts';
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
  /** Legs, lead, merges, overdue alerts, enforcement (coordination.ts); absent in snapshots made before it. */
  coordination?: Coordination;
}

export const INCIDENT_STATES = ['new', 'reported', 'triaged', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled', 'merged'] as const;
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
    // Mutual aid brings the asked agency into the incident, so it can see the request and answer it.
    addAidAgency: assign(({ context }, d: DataOf<'MutualAidRequested'>) => ({
      incident: context.incident?.agencies.includes(d.agency) ? context.incident : patchIncident(context, { agencies: [...(context.incident?.agencies ?? []), d.agency] }),
    })),
    // Every accepted event also moves the coordination picture; the state it leaves is what a split restores.
    coordinate: assign(({ context, event }, p: { from: string }) => ({ coordination: reduceCoordination(context.coordination, event, p.from) })),
  },
  guards: {
    unitReachedScene: (_, p: { status: AssignedUnitStatus }) => REACHED_SCENE.includes(p.status),
    restoresTo: ({ context }, p: { state: RestorableState }) => (context.coordination?.stateBeforeMerge ?? 'reported') === p.state,
  },
}).createMachine({
  id: 'incident',
  initial: 'new',
  context: { incident: null, units: {}, noteCount: 0, escalationCount: 0, reopenCount: 0 },
  states: {
    new: {
      on: {
        IncidentReported: { target: 'reported', actions: [{ type: 'recordReport', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'new' } }] },
      },
    },
    reported: {
      on: {
        IncidentTriaged: { target: 'triaged', actions: [{ type: 'recordTriage', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'reported' } }] },
        IncidentEscalated: { actions: [{ type: 'recordEscalation', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'reported' } }] },
        IncidentNoteAdded: { actions: ['countNote', { type: 'coordinate', params: { from: 'reported' } }] },
        IncidentCancelled: { target: 'cancelled', actions: [{ type: 'recordCancellation', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'reported' } }] },
        IncidentStatusOverdue: { actions: { type: 'coordinate', params: { from: 'reported' } } },
        IncidentMergedInto: { target: 'merged', actions: { type: 'coordinate', params: { from: 'reported' } } },
        DuplicateIncidentMerged: { actions: { type: 'coordinate', params: { from: 'reported' } } },
        MergedIncidentSplitOff: { actions: { type: 'coordinate', params: { from: 'reported' } } },
      },
    },
    triaged: {
      on: {
        IncidentTriaged: { actions: [{ type: 'recordTriage', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'triaged' } }] },
        UnitAssignedToIncident: { target: 'dispatched', actions: [{ type: 'recordAssignment', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'triaged' } }] },
        IncidentEscalated: { actions: [{ type: 'recordEscalation', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'triaged' } }] },
        IncidentNoteAdded: { actions: ['countNote', { type: 'coordinate', params: { from: 'triaged' } }] },
        IncidentResolved: { target: 'resolved', actions: [{ type: 'recordResolution', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'triaged' } }] },
        IncidentCancelled: { target: 'cancelled', actions: [{ type: 'recordCancellation', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'triaged' } }] },
        ...working('triaged'),
      },
    },
    dispatched: {
      on: {
        UnitAssignedToIncident: { actions: [{ type: 'recordAssignment', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'dispatched' } }] },
        AssignedUnitStatusChanged: [
          {
            guard: { type: 'unitReachedScene', params: ({ event }) => ({ status: event.data.status }) },
            target: 'on_scene',
            actions: [{ type: 'recordUnitStatus', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'dispatched' } }],
          },
          { actions: [{ type: 'recordUnitStatus', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'dispatched' } }] },
        ],
        IncidentEscalated: { actions: [{ type: 'recordEscalation', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'dispatched' } }] },
        IncidentNoteAdded: { actions: ['countNote', { type: 'coordinate', params: { from: 'dispatched' } }] },
        IncidentResolved: { target: 'resolved', actions: [{ type: 'recordResolution', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'dispatched' } }] },
        IncidentCancelled: { target: 'cancelled', actions: [{ type: 'recordCancellation', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'dispatched' } }] },
        ...working('dispatched'),
      },
    },
    on_scene: {
      on: {
        UnitAssignedToIncident: { actions: [{ type: 'recordAssignment', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'on_scene' } }] },
        AssignedUnitStatusChanged: { actions: [{ type: 'recordUnitStatus', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'on_scene' } }] },
        IncidentEscalated: { actions: [{ type: 'recordEscalation', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'on_scene' } }] },
        IncidentNoteAdded: { actions: ['countNote', { type: 'coordinate', params: { from: 'on_scene' } }] },
        IncidentResolved: { target: 'resolved', actions: [{ type: 'recordResolution', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'on_scene' } }] },
        IncidentCancelled: { target: 'cancelled', actions: [{ type: 'recordCancellation', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'on_scene' } }] },
        ...working('on_scene'),
      },
    },
    resolved: {
      on: {
        IncidentClosed: { target: 'closed', actions: { type: 'coordinate', params: { from: 'resolved' } } },
        IncidentReopened: { target: 'triaged', actions: [{ type: 'recordReopening', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'resolved' } }] },
        IncidentNoteAdded: { actions: ['countNote', { type: 'coordinate', params: { from: 'resolved' } }] },
        MergedIncidentSplitOff: { actions: { type: 'coordinate', params: { from: 'resolved' } } },
      },
    },
    closed: {
      on: {
        IncidentReopened: { target: 'triaged', actions: [{ type: 'recordReopening', params: ({ event }) => event.data }, { type: 'coordinate', params: { from: 'closed' } }] },
      },
    },
    cancelled: { type: 'final' },
    // Closed as a duplicate of another incident; a split makes it an incident of its own again, where it was.
    merged: {
      on: {
        IncidentSplitFromPrimary: (['reported', 'triaged', 'dispatched', 'on_scene'] as const).map((state) => ({
          guard: { type: 'restoresTo' as const, params: { state } },
          target: state,
          actions: { type: 'coordinate' as const, params: { from: 'merged' } },
        })),
      },
    },
  },
});

/** What an incident being worked (triaged, dispatched, on scene) takes besides its own state changes. */
function working(from: 'triaged' | 'dispatched' | 'on_scene') {
  const coordinate = { type: 'coordinate', params: { from } } as const;
  return {
    IncidentLegClaimed: { actions: coordinate },
    IncidentLeadHandedOver: { actions: coordinate },
    MutualAidRequested: { actions: [{ type: 'addAidAgency', params: ({ event }: { event: Extract<IncidentEvent, { type: 'MutualAidRequested' }> }) => event.data }, coordinate] },
    MutualAidAccepted: { actions: coordinate },
    MutualAidDeclined: { actions: coordinate },
    IncidentLegCompleted: { actions: coordinate },
    IncidentStatusOverdue: { actions: coordinate },
    IncidentMergedInto: { target: '#incident.merged', actions: coordinate },
    DuplicateIncidentMerged: { actions: coordinate },
    MergedIncidentSplitOff: { actions: coordinate },
    InspectionRecorded: { actions: coordinate },
    RectificationOrdered: { actions: coordinate },
    ReinspectionRecorded: { actions: coordinate },
    EnforcementCaseClosed: { actions: coordinate },
    EnforcementCaseEscalated: { actions: coordinate },
  } as const;
}
