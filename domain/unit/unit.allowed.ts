import type { SnapshotFrom } from 'xstate';
import { DomainError } from '../errors.ts';
import type { AssignedUnitStatus } from '../incident/incident.events.ts';
import { incidentLabel } from '../incident/incident.label.ts';
import { listWords } from '../validation.ts';
import type { UnitCommandType } from './unit.commands.ts';
import type { UnitEvent } from './unit.events.ts';
import { unitMachine, type UnitAssignmentState, type UnitReadiness } from './unit.machine.ts';

export type UnitState = SnapshotFrom<typeof unitMachine>;

type RegisteredValue = { registered: { readiness: UnitReadiness; assignment: UnitAssignmentState } };

/** Null while the unit is unregistered. */
export function unitReadiness(state: UnitState): UnitReadiness | null {
  return state.value === 'unregistered' ? null : (state.value as RegisteredValue).registered.readiness;
}

/** Null while the unit is unregistered. */
export function unitAssignment(state: UnitState): UnitAssignmentState | null {
  return state.value === 'unregistered' ? null : (state.value as RegisteredValue).registered.assignment;
}

export const UNIT_COMMAND_WORDS: Record<UnitCommandType, string> = {
  RegisterUnit: 'register',
  MarkOutOfService: 'mark out of service',
  ReturnToService: 'return to service',
  DispatchUnit: 'dispatch',
  ChangeUnitStatus: 'change status',
  ReleaseAssignment: 'release the assignment',
  ReportLocation: 'report location',
};

/** The event each field status becomes on the unit's own stream. */
export function unitStatusEvent(status: AssignedUnitStatus, incidentId: string, destination?: string): UnitEvent {
  switch (status) {
    case 'en_route':
      return { type: 'UnitEnRoute', data: { incidentId } };
    case 'on_scene':
      return { type: 'UnitArrivedOnScene', data: { incidentId } };
    case 'transporting':
      return { type: 'UnitTransportingPatient', data: destination === undefined ? { incidentId } : { incidentId, destination } };
    case 'at_hospital':
      return { type: 'UnitArrivedAtHospital', data: { incidentId } };
    case 'cleared':
      return { type: 'UnitCleared', data: { incidentId } };
  }
}

export const FIELD_STATUSES: readonly AssignedUnitStatus[] = ['en_route', 'on_scene', 'transporting', 'at_hospital', 'cleared'];

const FIELD_STATUS_WORDS: Record<AssignedUnitStatus, string> = {
  en_route: 'en route',
  on_scene: 'on scene',
  transporting: 'transporting',
  at_hospital: 'at hospital',
  cleared: 'cleared',
};

export function fieldStatusWords(status: AssignedUnitStatus): string {
  return FIELD_STATUS_WORDS[status];
}

/** Field statuses the unit may report next, given where it is in its assignment. */
export function nextUnitStatuses(state: UnitState): AssignedUnitStatus[] {
  const incidentId = state.context.incidentId;
  if (incidentId === undefined) return [];
  return FIELD_STATUSES.filter((s) => state.can(unitStatusEvent(s, incidentId)));
}

// Placeholder payloads: the machine's only guard looks at state, never at data.
const PROBES: Record<UnitCommandType, readonly UnitEvent[]> = {
  RegisterUnit: [{ type: 'UnitRegistered', data: { unitId: '', agency: 'fire', callSign: '', unitType: 'engine', homeStation: '' } }],
  MarkOutOfService: [{ type: 'UnitMarkedOutOfService', data: { reason: '' } }],
  ReturnToService: [{ type: 'UnitReturnedToService', data: {} }],
  DispatchUnit: [{ type: 'UnitDispatched', data: { incidentId: '' } }],
  ChangeUnitStatus: FIELD_STATUSES.map((s) => unitStatusEvent(s, '')),
  ReleaseAssignment: [{ type: 'UnitAssignmentReleased', data: { incidentId: '', reason: '' } }],
  ReportLocation: [{ type: 'UnitLocationReported', data: { position: { lat: 0, lng: 0 } } }],
};

/** Commands the current state accepts at all; payload rules may still refuse one of them. */
export function allowedUnitCommands(state: UnitState): UnitCommandType[] {
  return (Object.keys(PROBES) as UnitCommandType[]).filter((c) => unitAccepts(state, c));
}

/** Whether the current state accepts the command at all (one of allowedUnitCommands, without listing them all). */
export function unitAccepts(state: UnitState, command: UnitCommandType): boolean {
  return Object.hasOwn(PROBES, command) && PROBES[command].some((e) => state.can(e));
}

export function unitLabel(state: UnitState): string {
  return state.context.unit ? `Unit ${state.context.unit.callSign}` : 'This unit';
}

const ASSIGNMENT_PHRASES: Record<Exclude<UnitAssignmentState, 'idle'>, string> = {
  dispatched: 'dispatched to',
  en_route: 'en route to',
  on_scene: 'on scene at',
  transporting: 'transporting a patient for',
  at_hospital: 'at hospital for',
};

/** "dispatched to INC-1a2b3c4d", "idle"… */
export function assignmentWords(state: UnitState): string {
  const assignment = unitAssignment(state);
  if (assignment === null) return 'not registered';
  if (assignment === 'idle' || state.context.incidentId === undefined) return 'idle';
  return `${ASSIGNMENT_PHRASES[assignment]} ${incidentLabel(state.context.incidentId)}`;
}

function readinessWords(state: UnitState): string {
  return unitReadiness(state) === 'out_of_service' ? 'out of service' : 'available';
}

/** The error for a command the unit's current state does not accept, in the words a dispatcher uses. */
export function unitStateRejection(state: UnitState, command: UnitCommandType): DomainError {
  const allowed = allowedUnitCommands(state);
  const assignment = unitAssignment(state);
  const details = { state: state.value, readiness: unitReadiness(state), assignment, allowed, command };
  const unit = unitLabel(state);
  if (assignment === null) return new DomainError('not_found', 'No such unit: it has not been registered.', details);
  const oos = unitReadiness(state) === 'out_of_service';
  const reason = state.context.outOfServiceReason ? ` (${state.context.outOfServiceReason})` : '';
  switch (command) {
    case 'RegisterUnit':
      return new DomainError('conflict', `${unit} is already registered.`, details);
    case 'DispatchUnit':
      if (assignment !== 'idle') return new DomainError('conflict', `${unit} is already ${assignmentWords(state)}.`, details);
      if (oos) return new DomainError('invalid_state', `${unit} is out of service${reason}; return it to service before dispatching it.`, details);
      break;
    case 'MarkOutOfService':
      if (oos) return new DomainError('invalid_state', `${unit} is already out of service${reason}.`, details);
      break;
    case 'ReturnToService':
      if (!oos) return new DomainError('invalid_state', `${unit} is already in service.`, details);
      break;
    case 'ChangeUnitStatus':
      if (assignment === 'idle') return new DomainError('invalid_state', `${unit} is not serving any incident; dispatch it first.`, details);
      break;
    case 'ReleaseAssignment':
      if (assignment === 'idle') return new DomainError('invalid_state', `${unit} has no assignment to release.`, details);
      return new DomainError(
        'invalid_state',
        `${unit} is already ${assignmentWords(state)}; an assignment can only be released before the unit moves. Clear it instead.`,
        details,
      );
    default:
      break;
  }
  const words = allowed.map((c) => UNIT_COMMAND_WORDS[c]);
  return new DomainError(
    'invalid_state',
    `${unit} is ${readinessWords(state)} and ${assignmentWords(state)}; allowed now: ${listWords(words)}, not ${UNIT_COMMAND_WORDS[command]}.`,
    details,
  );
}
