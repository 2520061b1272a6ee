import type { Agency, IncidentSource, IncidentType, Location, Priority } from '../catalog.ts';

export const ASSIGNED_UNIT_STATUSES = ['en_route', 'on_scene', 'transporting', 'at_hospital', 'cleared'] as const;
export type AssignedUnitStatus = (typeof ASSIGNED_UNIT_STATUSES)[number];

export interface ReporterContact {
  name?: string;
  phone?: string;
}

/** Facts about one incident, in its stream `incident-<id>`. Payloads are the current schema version. */
export type IncidentEvent =
  | {
      type: 'IncidentReported';
      data: {
        incidentId: string;
        type: IncidentType;
        priority: Priority;
        location: Location;
        address?: string;
        description?: string;
        source: IncidentSource;
        reporter?: ReporterContact;
        /** Agencies the incident needs, from its type unless the reporter chose more. */
        agencies: Agency[];
      };
    }
  | { type: 'IncidentTriaged'; data: { priority: Priority; type: IncidentType; agencies: Agency[] } }
  | { type: 'IncidentEscalated'; data: { priority?: Priority; agenciesAdded: Agency[] } }
  | { type: 'UnitAssignedToIncident'; data: { unitId: string; agency: Agency; callSign: string } }
  | { type: 'AssignedUnitStatusChanged'; data: { unitId: string; status: AssignedUnitStatus } }
  | { type: 'IncidentNoteAdded'; data: { text: string } }
  | { type: 'IncidentResolved'; data: { summary?: string } }
  | { type: 'IncidentClosed'; data: Record<string, never> }
  | { type: 'IncidentCancelled'; data: { reason: string } }
  | { type: 'IncidentReopened'; data: { reason: string } };

export type IncidentEventType = IncidentEvent['type'];

/** Current schema version of each event type; older stored versions are upcast on read (see upcast.ts). */
export const INCIDENT_EVENT_VERSIONS: Record<IncidentEventType, number> = {
  IncidentReported: 2,
  IncidentTriaged: 1,
  IncidentEscalated: 1,
  UnitAssignedToIncident: 1,
  AssignedUnitStatusChanged: 1,
  IncidentNoteAdded: 1,
  IncidentResolved: 1,
  IncidentClosed: 1,
  IncidentCancelled: 1,
  IncidentReopened: 1,
};
