import { assign, setup, stateIn } from 'xstate';
import type { Agency, Location, UnitType } from '../catalog.ts';
import type { UnitEvent } from './unit.events.ts';

export interface UnitDetails {
  unitId: string;
  agency: Agency;
  callSign: string;
  unitType: UnitType;
  homeStation: string;
}

export interface UnitContext {
  /** Null only before UnitRegistered: until then the unit does not exist. */
  unit: UnitDetails | null;
  position?: Location;
  heading?: number;
  speedKmh?: number;
  /** The incident the unit currently serves; a unit serves at most one at a time. */
  incidentId?: string;
  destination?: string;
  outOfServiceReason?: string;
}

export const UNIT_READINESS = ['available', 'out_of_service'] as const;
export type UnitReadiness = (typeof UNIT_READINESS)[number];

export const UNIT_ASSIGNMENT_STATES = ['idle', 'dispatched', 'en_route', 'on_scene', 'transporting', 'at_hospital'] as const;
export type UnitAssignmentState = (typeof UNIT_ASSIGNMENT_STATES)[number];

type DataOf<T extends UnitEvent['type']> = Extract<UnitEvent, { type: T }>['data'];

const clearAssignment = { type: 'clearAssignment' } as const;

export const unitMachine = setup({
  types: {
    context: {} as UnitContext,
    events: {} as UnitEvent,
  },
  actions: {
    register: assign((_, d: DataOf<'UnitRegistered'>) => ({
      unit: { unitId: d.unitId, agency: d.agency, callSign: d.callSign, unitType: d.unitType, homeStation: d.homeStation },
      position: d.position ? { ...d.position } : undefined,
    })),
    markOutOfService: assign((_, d: DataOf<'UnitMarkedOutOfService'>) => ({ outOfServiceReason: d.reason })),
    returnToService: assign({ outOfServiceReason: undefined }),
    takeAssignment: assign((_, d: { incidentId: string }) => ({ incidentId: d.incidentId, destination: undefined })),
    setDestination: assign((_, d: DataOf<'UnitTransportingPatient'>) => ({ destination: d.destination })),
    clearAssignment: assign({ incidentId: undefined, destination: undefined }),
    locate: assign((_, d: DataOf<'UnitLocationReported'>) => ({ position: { ...d.position }, heading: d.heading, speedKmh: d.speedKmh })),
  },
  guards: {
    // Readiness and assignment are separate regions; only this guard ties them together.
    inService: stateIn({ registered: { readiness: 'available' } }),
  },
}).createMachine({
  id: 'unit',
  initial: 'unregistered',
  context: { unit: null },
  states: {
    unregistered: {
      on: {
        UnitRegistered: { target: 'registered', actions: { type: 'register', params: ({ event }) => event.data } },
      },
    },
    registered: {
      type: 'parallel',
      on: {
        UnitLocationReported: { actions: { type: 'locate', params: ({ event }) => event.data } },
      },
      states: {
        readiness: {
          initial: 'available',
          states: {
            // Allowed whatever the assignment: a unit can break down en route and still has to be cleared.
            available: {
              on: { UnitMarkedOutOfService: { target: 'out_of_service', actions: { type: 'markOutOfService', params: ({ event }) => event.data } } },
            },
            out_of_service: {
              on: { UnitReturnedToService: { target: 'available', actions: 'returnToService' } },
            },
          },
        },
        assignment: {
          initial: 'idle',
          states: {
            idle: {
              on: {
                UnitDispatched: { guard: 'inService', target: 'dispatched', actions: { type: 'takeAssignment', params: ({ event }) => event.data } },
              },
            },
            dispatched: {
              on: {
                UnitEnRoute: { target: 'en_route' },
                UnitArrivedOnScene: { target: 'on_scene' },
                UnitCleared: { target: 'idle', actions: clearAssignment },
                UnitAssignmentReleased: { target: 'idle', actions: clearAssignment },
              },
            },
            en_route: {
              on: {
                UnitArrivedOnScene: { target: 'on_scene' },
                UnitCleared: { target: 'idle', actions: clearAssignment },
              },
            },
            on_scene: {
              on: {
                UnitTransportingPatient: { target: 'transporting', actions: { type: 'setDestination', params: ({ event }) => event.data } },
                UnitCleared: { target: 'idle', actions: clearAssignment },
              },
            },
            transporting: {
              on: {
                UnitArrivedAtHospital: { target: 'at_hospital' },
                UnitCleared: { target: 'idle', actions: clearAssignment },
              },
            },
            at_hospital: {
              on: {
                UnitCleared: { target: 'idle', actions: clearAssignment },
              },
            },
          },
        },
      },
    },
  },
});
