import type { Agency, IncidentSource, IncidentType, Location, Priority, UnitType } from '../catalog.ts';

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
  /** `unitType` was added later (optional, so older events still fold): run cards count units by type. */
  | { type: 'UnitAssignedToIncident'; data: { unitId: string; agency: Agency; callSign: string; unitType?: UnitType } }
  | { type: 'AssignedUnitStatusChanged'; data: { unitId: string; status: AssignedUnitStatus } }
  | { type: 'IncidentNoteAdded'; data: { text: string } }
  | { type: 'IncidentResolved'; data: { summary?: string } }
  | { type: 'IncidentClosed'; data: Record<string, never> }
  | { type: 'IncidentCancelled'; data: { reason: string } }
  | { type: 'IncidentReopened'; data: { reason: string } }
  | CoordinationEvent;

/** A report as it joins another incident when a duplicate is merged into it. */
export interface MergedReport {
  incidentId: string;
  type: IncidentType;
  priority: Priority;
  location: Location;
  address?: string;
  description?: string;
  source: IncidentSource;
  reporter?: ReporterContact;
  reportedAt?: string;
}

export type OverdueSubject = 'incident' | 'unit';
/** What ends an overdue alert: the first dispatch, the first arrival, the unit's next status, or the end of the incident. */
export type OverdueClearsOn = 'dispatch' | 'arrival' | 'unit_status' | 'resolution';

/**
 * Multi-agency legs, duplicates, status timers and enforcement cases (issue 6). All are facts on the incident's
 * own stream; none changes an older event, so streams written before them fold unchanged.
 */
export type CoordinationEvent =
  | { type: 'IncidentLegClaimed'; data: { agency: Agency; owner: string } }
  | { type: 'IncidentLeadHandedOver'; data: { from: Agency; to: Agency; reason?: string } }
  | { type: 'MutualAidRequested'; data: { agency: Agency; requestedBy: Agency; note?: string } }
  | { type: 'MutualAidAccepted'; data: { agency: Agency; owner: string } }
  | { type: 'MutualAidDeclined'; data: { agency: Agency; reason: string } }
  | { type: 'IncidentLegCompleted'; data: { agency: Agency; summary?: string } }
  | {
      type: 'IncidentStatusOverdue';
      data: {
        ruleId: string;
        subject: OverdueSubject;
        unitId?: string;
        /** The status that lasted too long. */
        status: string;
        since: string;
        dueAt: string;
        limitSeconds: number;
        clearsOn: OverdueClearsOn;
      };
    }
  /** On the duplicate: it is closed as merged into `primaryId`. */
  | { type: 'IncidentMergedInto'; data: { primaryId: string } }
  /** On the primary: the duplicate's reports and notes join it. */
  | { type: 'DuplicateIncidentMerged'; data: { duplicateId: string; reports: MergedReport[]; notes: string[] } }
  /** On the primary: a merge is undone; the duplicate's reports and notes leave it again. */
  | { type: 'MergedIncidentSplitOff'; data: { duplicateId: string } }
  /** On the duplicate: it is an incident of its own again, back where it stood before the merge. */
  | { type: 'IncidentSplitFromPrimary'; data: { primaryId: string } }
  | { type: 'InspectionRecorded'; data: { findings: string; violationFound: boolean } }
  | { type: 'RectificationOrdered'; data: { requirements: string; deadlineDays: number; orderedAt: string; dueAt: string } }
  | { type: 'ReinspectionRecorded'; data: { compliant: boolean; findings: string } }
  | { type: 'EnforcementCaseClosed'; data: { outcome: 'rectified' | 'no_violation' } }
  | { type: 'EnforcementCaseEscalated'; data: { reason: string } };

export type CoordinationEventType = CoordinationEvent['type'];

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
  IncidentLegClaimed: 1,
  IncidentLeadHandedOver: 1,
  MutualAidRequested: 1,
  MutualAidAccepted: 1,
  MutualAidDeclined: 1,
  IncidentLegCompleted: 1,
  IncidentStatusOverdue: 1,
  IncidentMergedInto: 1,
  DuplicateIncidentMerged: 1,
  MergedIncidentSplitOff: 1,
  IncidentSplitFromPrimary: 1,
  InspectionRecorded: 1,
  RectificationOrdered: 1,
  ReinspectionRecorded: 1,
  EnforcementCaseClosed: 1,
  EnforcementCaseEscalated: 1,
};
