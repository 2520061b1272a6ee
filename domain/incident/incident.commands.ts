import type { Agency, IncidentSource, IncidentType, Location, Priority } from '../catalog.ts';
import type { AssignedUnitStatus, ReporterContact } from './incident.events.ts';

/** What a user asks of an incident. Unknown-shaped input is rejected at the API edge; rules live in decide. */
export type IncidentCommand =
  | {
      type: 'ReportIncident';
      data: {
        incidentId: string;
        type: IncidentType;
        priority: Priority;
        location: Location;
        address?: string;
        description?: string;
        source?: IncidentSource;
        reporter?: ReporterContact;
        agencies?: Agency[];
      };
    }
  | { type: 'TriageIncident'; data: { priority?: Priority; type?: IncidentType; agencies?: Agency[] } }
  | { type: 'EscalateIncident'; data: { priority?: Priority; agencies?: Agency[] } }
  /** Second step of the assignment process, after the unit has been reserved on its own stream. */
  | { type: 'RecordUnitAssignment'; data: { unitId: string; agency: Agency; callSign: string } }
  | { type: 'RecordUnitStatus'; data: { unitId: string; status: AssignedUnitStatus } }
  | { type: 'AddNote'; data: { text: string } }
  | { type: 'ResolveIncident'; data: { summary?: string } }
  | { type: 'CloseIncident'; data: Record<string, never> }
  | { type: 'CancelIncident'; data: { reason: string } }
  | { type: 'ReopenIncident'; data: { reason: string } };

export type IncidentCommandType = IncidentCommand['type'];
