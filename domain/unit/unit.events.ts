import type { Agency, Location, UnitType } from '../catalog.ts';

/** Facts about one unit, in its stream `unit-<id>`. */
export type UnitEvent =
  | {
      type: 'UnitRegistered';
      data: { unitId: string; agency: Agency; callSign: string; unitType: UnitType; homeStation: string; position?: Location };
    }
  | { type: 'UnitMarkedOutOfService'; data: { reason: string } }
  | { type: 'UnitReturnedToService'; data: Record<string, never> }
  /** The reservation step of an assignment: decides the race between two dispatchers. */
  | { type: 'UnitDispatched'; data: { incidentId: string } }
  | { type: 'UnitEnRoute'; data: { incidentId: string } }
  | { type: 'UnitArrivedOnScene'; data: { incidentId: string } }
  | { type: 'UnitTransportingPatient'; data: { incidentId: string; destination?: string } }
  | { type: 'UnitArrivedAtHospital'; data: { incidentId: string } }
  | { type: 'UnitCleared'; data: { incidentId: string } }
  /** Compensation: the incident refused the assignment after the unit was reserved. */
  | { type: 'UnitAssignmentReleased'; data: { incidentId: string; reason: string } }
  | { type: 'UnitLocationReported'; data: { position: Location; heading?: number; speedKmh?: number } };

export type UnitEventType = UnitEvent['type'];

export const UNIT_EVENT_VERSIONS: Record<UnitEventType, number> = {
  UnitRegistered: 1,
  UnitMarkedOutOfService: 1,
  UnitReturnedToService: 1,
  UnitDispatched: 1,
  UnitEnRoute: 1,
  UnitArrivedOnScene: 1,
  UnitTransportingPatient: 1,
  UnitArrivedAtHospital: 1,
  UnitCleared: 1,
  UnitAssignmentReleased: 1,
  UnitLocationReported: 1,
};
