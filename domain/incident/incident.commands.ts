import type { Agency, IncidentSource, IncidentType, Location, Priority, UnitType } from '../catalog.ts';
import type { AssignedUnitStatus, MergedReport, OverdueClearsOn, OverdueSubject, ReporterContact } from './incident.events.ts';

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
  | { type: 'RecordUnitAssignment'; data: { unitId: string; agency: Agency; callSign: string; unitType?: UnitType } }
  | { type: 'RecordUnitStatus'; data: { unitId: string; status: AssignedUnitStatus } }
  | { type: 'AddNote'; data: { text: string } }
  | { type: 'ResolveIncident'; data: { summary?: string } }
  | { type: 'CloseIncident'; data: Record<string, never> }
  | { type: 'CancelIncident'; data: { reason: string } }
  | { type: 'ReopenIncident'; data: { reason: string } }
  // Legs: `owner` is the acting dispatcher, put in by the API from the command's metadata.
  | { type: 'ClaimLeg'; data: { agency: Agency; owner: string } }
  | { type: 'HandOverLead'; data: { to: Agency; reason?: string } }
  | { type: 'RequestMutualAid'; data: { agency: Agency; requestedBy: Agency; note?: string } }
  | { type: 'AcceptMutualAid'; data: { agency: Agency; owner: string } }
  | { type: 'DeclineMutualAid'; data: { agency: Agency; reason: string } }
  | { type: 'CompleteLeg'; data: { agency: Agency; summary?: string } }
  /** Decided outside the aggregate by the status timers (a pure rule on the clock); the incident records it once. */
  | {
      type: 'FlagOverdue';
      data: { ruleId: string; subject: OverdueSubject; unitId?: string; status: string; since: string; dueAt: string; limitSeconds: number; clearsOn: OverdueClearsOn };
    }
  /** Duplicate side of a merge. */
  | { type: 'MergeIntoPrimary'; data: { primaryId: string } }
  /** Primary side of a merge: the reports and notes read from the duplicate's stream. */
  | { type: 'AbsorbDuplicate'; data: { duplicateId: string; reports: MergedReport[]; notes: string[] } }
  /** Primary side of a split. */
  | { type: 'SplitOffDuplicate'; data: { duplicateId: string } }
  /** Duplicate side of a split. */
  | { type: 'RestoreFromMerge'; data: { primaryId: string } }
  | { type: 'RecordInspection'; data: { findings: string; violationFound: boolean } }
  /** `orderedAt` is the command's business time, put in by the API; the due date is counted from it. */
  | { type: 'OrderRectification'; data: { requirements: string; deadlineDays: number; orderedAt: string } }
  | { type: 'RecordReinspection'; data: { compliant: boolean; findings: string } };

export type IncidentCommandType = IncidentCommand['type'];
