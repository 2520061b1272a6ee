import type { SnapshotFrom } from 'xstate';
import { DomainError } from '../errors.ts';
import { listWords } from '../validation.ts';
import type { IncidentCommandType } from './incident.commands.ts';
import type { IncidentEvent } from './incident.events.ts';
import { incidentLabel } from './incident.label.ts';
import { incidentMachine, type IncidentStateName } from './incident.machine.ts';

export type IncidentState = SnapshotFrom<typeof incidentMachine>;

export function incidentStateName(state: IncidentState): IncidentStateName {
  return state.value as IncidentStateName;
}

/** What each command is called in a sentence to a dispatcher. */
export const INCIDENT_COMMAND_WORDS: Record<IncidentCommandType, string> = {
  ReportIncident: 'report',
  TriageIncident: 'triage',
  EscalateIncident: 'escalate',
  RecordUnitAssignment: 'assign a unit',
  RecordUnitStatus: "update a unit's status",
  AddNote: 'add a note',
  ResolveIncident: 'resolve',
  CloseIncident: 'close',
  CancelIncident: 'cancel',
  ReopenIncident: 'reopen',
  ClaimLeg: "take charge of an agency's leg",
  HandOverLead: 'hand over the lead',
  RequestMutualAid: 'request mutual aid',
  AcceptMutualAid: 'accept mutual aid',
  DeclineMutualAid: 'decline mutual aid',
  CompleteLeg: "complete an agency's leg",
  FlagOverdue: 'raise an overdue alert',
  MergeIntoPrimary: 'merge it into another incident',
  AbsorbDuplicate: 'merge a duplicate into it',
  SplitOffDuplicate: 'split a merged duplicate off',
  RestoreFromMerge: 'split it off again',
  RecordInspection: 'record an inspection',
  OrderRectification: 'order rectification',
  RecordReinspection: 'record a re-inspection',
};

const STATE_WORDS: Record<IncidentStateName, string> = {
  new: 'not reported yet',
  reported: 'reported (awaiting triage)',
  triaged: 'triaged',
  dispatched: 'dispatched',
  on_scene: 'on scene',
  resolved: 'resolved',
  closed: 'closed',
  cancelled: 'cancelled',
  merged: 'closed as a duplicate',
};

// One representative event per command. The machine's guards never look at payloads in a way that
// would turn a whole command away, so probing with placeholder data answers "does this state accept it".
const PROBES: Record<IncidentCommandType, IncidentEvent> = {
  ReportIncident: {
    type: 'IncidentReported',
    data: { incidentId: '', type: 'fire', priority: 1, location: { lat: 0, lng: 0 }, source: 'phone', agencies: [] },
  },
  TriageIncident: { type: 'IncidentTriaged', data: { priority: 1, type: 'fire', agencies: [] } },
  EscalateIncident: { type: 'IncidentEscalated', data: { agenciesAdded: [] } },
  RecordUnitAssignment: { type: 'UnitAssignedToIncident', data: { unitId: '', agency: 'fire', callSign: '' } },
  RecordUnitStatus: { type: 'AssignedUnitStatusChanged', data: { unitId: '', status: 'en_route' } },
  AddNote: { type: 'IncidentNoteAdded', data: { text: '' } },
  ResolveIncident: { type: 'IncidentResolved', data: {} },
  CloseIncident: { type: 'IncidentClosed', data: {} },
  CancelIncident: { type: 'IncidentCancelled', data: { reason: '' } },
  ReopenIncident: { type: 'IncidentReopened', data: { reason: '' } },
  // Coordination commands (issue 6) are listed apart: see allowedCoordinationCommands.
  ClaimLeg: { type: 'IncidentLegClaimed', data: { agency: 'fire', owner: '' } },
  HandOverLead: { type: 'IncidentLeadHandedOver', data: { from: 'fire', to: 'ems' } },
  RequestMutualAid: { type: 'MutualAidRequested', data: { agency: 'fire', requestedBy: 'ems' } },
  AcceptMutualAid: { type: 'MutualAidAccepted', data: { agency: 'fire', owner: '' } },
  DeclineMutualAid: { type: 'MutualAidDeclined', data: { agency: 'fire', reason: '' } },
  CompleteLeg: { type: 'IncidentLegCompleted', data: { agency: 'fire' } },
  FlagOverdue: {
    type: 'IncidentStatusOverdue',
    data: { ruleId: '', subject: 'incident', status: '', since: '', dueAt: '', limitSeconds: 0, clearsOn: 'dispatch' },
  },
  MergeIntoPrimary: { type: 'IncidentMergedInto', data: { primaryId: '' } },
  AbsorbDuplicate: { type: 'DuplicateIncidentMerged', data: { duplicateId: '', reports: [], notes: [] } },
  SplitOffDuplicate: { type: 'MergedIncidentSplitOff', data: { duplicateId: '' } },
  RestoreFromMerge: { type: 'IncidentSplitFromPrimary', data: { primaryId: '' } },
  RecordInspection: { type: 'InspectionRecorded', data: { findings: '', violationFound: false } },
  OrderRectification: { type: 'RectificationOrdered', data: { requirements: '', deadlineDays: 1, orderedAt: '', dueAt: '' } },
  RecordReinspection: { type: 'ReinspectionRecorded', data: { compliant: true, findings: '' } },
};

const CORE_COMMANDS: readonly IncidentCommandType[] = [
  'ReportIncident',
  'TriageIncident',
  'EscalateIncident',
  'RecordUnitAssignment',
  'RecordUnitStatus',
  'AddNote',
  'ResolveIncident',
  'CloseIncident',
  'CancelIncident',
  'ReopenIncident',
];

/**
 * The incident's own commands the current state accepts at all; payload rules may still refuse one of them.
 * These are the buttons of the incident and what a refusal lists as "allowed now".
 */
export function allowedIncidentCommands(state: IncidentState): IncidentCommandType[] {
  return CORE_COMMANDS.filter((c) => state.can(PROBES[c]));
}

/** Legs, mutual aid, merges, alerts and enforcement commands the current state accepts at all. */
export function allowedCoordinationCommands(state: IncidentState): IncidentCommandType[] {
  return (Object.keys(PROBES) as IncidentCommandType[]).filter((c) => !CORE_COMMANDS.includes(c) && state.can(PROBES[c]));
}

export function incidentAccepts(state: IncidentState, command: IncidentCommandType): boolean {
  return Object.hasOwn(PROBES, command) && state.can(PROBES[command]);
}

export function labelOf(state: IncidentState): string {
  return state.context.incident ? incidentLabel(state.context.incident.incidentId) : 'INC-?';
}

/** The error for a command the incident's current state does not accept. */
export function stateRejection(state: IncidentState, command: IncidentCommandType): DomainError {
  const name = incidentStateName(state);
  const allowed = allowedIncidentCommands(state);
  const details = { state: name, allowed, command };
  if (name === 'new') {
    return new DomainError('not_found', 'No such incident: it has not been reported yet.', details);
  }
  const label = labelOf(state);
  if (command === 'ReportIncident') {
    return new DomainError('conflict', `Incident ${label} has already been reported; it is ${STATE_WORDS[name]}.`, details);
  }
  const words = allowed.map((c) => INCIDENT_COMMAND_WORDS[c]);
  const choice =
    words.length === 0
      ? 'nothing more can be done with it'
      : words.length === 1
        ? `only ${words[0]} is allowed`
        : `allowed now: ${listWords(words)}`;
  return new DomainError('invalid_state', `Incident ${label} is ${STATE_WORDS[name]}; ${choice}, not ${INCIDENT_COMMAND_WORDS[command]}.`, details);
}

/** Explicit because XState ignores an event no state handles: a silent no-op must never be stored. */
export function assertIncidentAccepts(state: IncidentState, command: IncidentCommandType, events: readonly IncidentEvent[], evolve: (s: IncidentState, e: IncidentEvent) => IncidentState): void {
  let current = state;
  for (const event of events) {
    if (!current.can(event)) throw stateRejection(current, command);
    current = evolve(current, event);
  }
}
