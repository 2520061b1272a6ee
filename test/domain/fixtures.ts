import type { IncidentCommand } from '../../domain/incident/incident.commands.ts';
import type { AssignedUnitStatus, IncidentEvent } from '../../domain/incident/incident.events.ts';
import type { UnitCommand } from '../../domain/unit/unit.commands.ts';
import type { UnitEvent } from '../../domain/unit/unit.events.ts';

// UUID v7-shaped ids whose tails make the labels easy to read in assertions.
export const INCIDENT_ID = '01900000-0000-7000-8000-00001a2b3c4d';
export const INCIDENT_LABEL = 'INC-1a2b3c4d';
export const OTHER_INCIDENT_ID = '01900000-0000-7000-8000-0000deadbeef';
export const OTHER_INCIDENT_LABEL = 'INC-deadbeef';
export const E1 = '01900000-0000-7000-9000-0000000000e1';
export const A3 = '01900000-0000-7000-9000-0000000000a3';
export const T7 = '01900000-0000-7000-9000-0000000000f7';

export const reported: IncidentEvent = {
  type: 'IncidentReported',
  data: {
    incidentId: INCIDENT_ID,
    type: 'traffic_accident_injuries',
    priority: 2,
    location: { lat: 27.1138, lng: 114.9865 },
    address: 'Jinggangshan Avenue at Luling Road',
    description: 'Two cars, one driver trapped',
    source: 'phone',
    agencies: ['traffic', 'ems', 'fire'],
  },
};

export const triaged: IncidentEvent = {
  type: 'IncidentTriaged',
  data: { priority: 2, type: 'traffic_accident_injuries', agencies: ['traffic', 'ems', 'fire'] },
};

export const assignedE1: IncidentEvent = { type: 'UnitAssignedToIncident', data: { unitId: E1, agency: 'fire', callSign: 'E1' } };
export const assignedA3: IncidentEvent = { type: 'UnitAssignedToIncident', data: { unitId: A3, agency: 'ems', callSign: 'A3' } };

export function unitStatus(unitId: string, status: AssignedUnitStatus): IncidentEvent {
  return { type: 'AssignedUnitStatusChanged', data: { unitId, status } };
}

export const resolved: IncidentEvent = { type: 'IncidentResolved', data: { summary: 'Driver freed, road reopened' } };
export const closed: IncidentEvent = { type: 'IncidentClosed', data: {} };
export const reopened: IncidentEvent = { type: 'IncidentReopened', data: { reason: 'Second casualty found' } };
export const cancelled: IncidentEvent = { type: 'IncidentCancelled', data: { reason: 'Duplicate call' } };

export const reportCommand: Extract<IncidentCommand, { type: 'ReportIncident' }> = {
  type: 'ReportIncident',
  data: {
    incidentId: INCIDENT_ID,
    type: 'traffic_accident_injuries',
    priority: 2,
    location: { lat: 27.1138, lng: 114.9865 },
    address: 'Jinggangshan Avenue at Luling Road',
    description: 'Two cars, one driver trapped',
  },
};

export const UNIT_ID = '01900000-0000-7000-9000-000000000e12';

export const unitRegistered: UnitEvent = {
  type: 'UnitRegistered',
  data: { unitId: UNIT_ID, agency: 'fire', callSign: 'E12', unitType: 'engine', homeStation: 'Jizhou Fire Station 1', position: { lat: 27.12, lng: 114.97 } },
};

export const registerCommand: Extract<UnitCommand, { type: 'RegisterUnit' }> = {
  type: 'RegisterUnit',
  data: { unitId: UNIT_ID, agency: 'fire', callSign: 'E12', unitType: 'engine', homeStation: 'Jizhou Fire Station 1', position: { lat: 27.12, lng: 114.97 } },
};

export const unitDispatched: UnitEvent = { type: 'UnitDispatched', data: { incidentId: INCIDENT_ID } };
export const unitEnRoute: UnitEvent = { type: 'UnitEnRoute', data: { incidentId: INCIDENT_ID } };
export const unitOnScene: UnitEvent = { type: 'UnitArrivedOnScene', data: { incidentId: INCIDENT_ID } };
export const unitTransporting: UnitEvent = { type: 'UnitTransportingPatient', data: { incidentId: INCIDENT_ID, destination: 'Ji\'an Central Hospital' } };
export const unitAtHospital: UnitEvent = { type: 'UnitArrivedAtHospital', data: { incidentId: INCIDENT_ID } };
export const unitCleared: UnitEvent = { type: 'UnitCleared', data: { incidentId: INCIDENT_ID } };
export const unitOutOfService: UnitEvent = { type: 'UnitMarkedOutOfService', data: { reason: 'Flat tyre' } };
export const unitBackInService: UnitEvent = { type: 'UnitReturnedToService', data: {} };
export const unitReleased: UnitEvent = { type: 'UnitAssignmentReleased', data: { incidentId: INCIDENT_ID, reason: 'Incident refused the assignment' } };
