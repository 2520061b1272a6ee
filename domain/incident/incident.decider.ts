import { initialTransition } from 'xstate';
import { incidentTypeInfo, UNIT_TYPES } from '../catalog.ts';
import type { Decider } from '../decider.ts';
import { nextSnapshot } from '../machineTransition.ts';
import { DomainError } from '../errors.ts';
import {
  compact,
  invalid,
  listWords,
  optionalText,
  requireAgencies,
  requireAgency,
  requireIncidentType,
  requireLocation,
  requirePriority,
  requireSource,
  requireText,
  unionAgencies,
} from '../validation.ts';
import {
  INCIDENT_COMMAND_WORDS,
  allowedIncidentCommands,
  assertIncidentAccepts,
  incidentAccepts,
  incidentStateName,
  stateRejection,
  type IncidentState,
} from './incident.allowed.ts';
import { coordinationDecision } from './coordination.decide.ts';
import type { IncidentCommand } from './incident.commands.ts';
import { ASSIGNED_UNIT_STATUSES, type AssignedUnitStatus, type IncidentEvent, type ReporterContact } from './incident.events.ts';
import { incidentLabel } from './incident.label.ts';
import { ASSIGNMENT_STATUS_ORDER, incidentMachine, type AssignmentStatus, type IncidentContext, type IncidentDetails } from './incident.machine.ts';

export type { IncidentState } from './incident.allowed.ts';

export const INCIDENT_LIMITS = {
  noteText: 2000,
  description: 4000,
  address: 500,
  reason: 500,
  summary: 4000,
  callSign: 32,
  id: 100,
  reporterName: 100,
  reporterPhone: 32,
} as const;

export const ASSIGNMENT_STATUS_WORDS: Record<AssignmentStatus, string> = {
  dispatched: 'dispatched',
  en_route: 'en route',
  on_scene: 'on scene',
  transporting: 'transporting',
  at_hospital: 'at hospital',
  cleared: 'cleared',
};

type CommandOf<T extends IncidentCommand['type']> = Extract<IncidentCommand, { type: T }>;

function evolve(state: IncidentState, event: IncidentEvent): IncidentState {
  return nextSnapshot(incidentMachine, state, event);
}

export const incidentDecider: Decider<IncidentState, IncidentCommand, IncidentEvent> = {
  initialState: () => initialTransition(incidentMachine)[0],
  evolve,
  decide(command, state) {
    if (!Object.hasOwn(INCIDENT_COMMAND_WORDS, command?.type)) {
      throw new DomainError('invalid_payload', `Unknown incident command ${JSON.stringify(command?.type)}.`, { field: 'type' });
    }
    try {
      // State first, so a dispatcher acting on a closed incident hears "it is closed", not a field error.
      if (!incidentAccepts(state, command.type)) throw stateRejection(state, command.type);
      const events = candidateEvents(command, state);
      assertIncidentAccepts(state, command.type, events, evolve);
      return events;
    } catch (error) {
      // Every refusal tells the client where the incident stands and what it may do instead.
      if (error instanceof DomainError) {
        const allowed = allowedIncidentCommands(state);
        throw new DomainError(error.code, error.message, { state: incidentStateName(state), allowed, command: command.type, ...error.details });
      }
      throw error;
    }
  },
};

/** Units still working the incident: assigned and not yet cleared. */
export function activeUnits(context: IncidentContext): Array<{ unitId: string; callSign: string; status: AssignmentStatus }> {
  return Object.entries(context.units)
    .filter(([, u]) => u.status !== 'cleared')
    .map(([unitId, u]) => ({ unitId, callSign: u.callSign, status: u.status }));
}

function candidateEvents(command: IncidentCommand, state: IncidentState): IncidentEvent[] {
  if (command.type === 'ReportIncident') return [reported(command)];
  const incident = state.context.incident;
  // The gate in decide already refused every command but ReportIncident before the incident exists.
  if (!incident) throw new DomainError('not_found', 'No such incident: it has not been reported yet.');
  const ctx = { state, incident, label: incidentLabel(incident.incidentId) };
  switch (command.type) {
    case 'TriageIncident':
      return [triaged(command, ctx)];
    case 'EscalateIncident':
      return [escalated(command, ctx)];
    case 'RecordUnitAssignment':
      return [unitAssigned(command, ctx)];
    case 'RecordUnitStatus':
      return [unitStatusChanged(command, ctx)];
    case 'AddNote':
      return [{ type: 'IncidentNoteAdded', data: { text: requireText('text', command.data?.text, 'A note', INCIDENT_LIMITS.noteText) } }];
    case 'ResolveIncident':
      requireUnitsCleared(ctx, 'resolved');
      requireNoOpenEnforcement(ctx);
      return [{ type: 'IncidentResolved', data: compact({ summary: optionalText('summary', command.data?.summary, 'The summary', INCIDENT_LIMITS.summary) }) }];
    case 'CloseIncident':
      return [{ type: 'IncidentClosed', data: {} }];
    case 'CancelIncident':
      requireUnitsCleared(ctx, 'cancelled');
      return [{ type: 'IncidentCancelled', data: { reason: requireText('reason', command.data?.reason, 'A reason for cancelling', INCIDENT_LIMITS.reason) } }];
    case 'ReopenIncident':
      return [{ type: 'IncidentReopened', data: { reason: requireText('reason', command.data?.reason, 'A reason for reopening', INCIDENT_LIMITS.reason) } }];
    default:
      return coordinationDecision(command, ctx, { requireUnitsCleared: (outcome) => requireUnitsCleared(ctx, outcome) });
  }
}

export interface Ctx {
  state: IncidentState;
  incident: IncidentDetails;
  label: string;
}

function reported(command: CommandOf<'ReportIncident'>): IncidentEvent {
  const d = command.data ?? ({} as CommandOf<'ReportIncident'>['data']);
  const type = requireIncidentType(d.type);
  const given = d.agencies === undefined ? [] : requireAgencies(d.agencies);
  return {
    type: 'IncidentReported',
    data: compact({
      incidentId: requireText('incidentId', d.incidentId, 'The incident id', INCIDENT_LIMITS.id),
      type,
      priority: requirePriority(d.priority),
      location: requireLocation(d.location),
      address: optionalText('address', d.address, 'The address', INCIDENT_LIMITS.address),
      description: optionalText('description', d.description, 'The description', INCIDENT_LIMITS.description),
      source: d.source === undefined ? 'phone' : requireSource(d.source),
      reporter: reporter(d.reporter),
      agencies: unionAgencies(incidentTypeInfo(type)?.agencies, given),
    }),
  };
}

function reporter(value: ReporterContact | undefined): ReporterContact | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') invalid('reporter', 'The reporter must be given as a name and/or phone number.');
  const contact = compact({
    name: optionalText('reporter.name', value.name, "The reporter's name", INCIDENT_LIMITS.reporterName),
    phone: optionalText('reporter.phone', value.phone, "The reporter's phone number", INCIDENT_LIMITS.reporterPhone),
  });
  return Object.keys(contact).length > 0 ? contact : undefined;
}

function triaged(command: CommandOf<'TriageIncident'>, { incident }: Ctx): IncidentEvent {
  const d = command.data ?? {};
  const type = d.type === undefined ? incident.type : requireIncidentType(d.type);
  const priority = d.priority === undefined ? incident.priority : requirePriority(d.priority);
  // Without an explicit list the incident keeps what it already needs; a new type can only add to it.
  const base = d.agencies === undefined ? incident.agencies : requireAgencies(d.agencies);
  return { type: 'IncidentTriaged', data: { priority, type, agencies: unionAgencies(incidentTypeInfo(type)?.agencies, base) } };
}

function escalated(command: CommandOf<'EscalateIncident'>, { incident, label }: Ctx): IncidentEvent {
  const d = command.data ?? {};
  const priority = d.priority === undefined ? undefined : requirePriority(d.priority);
  // Escalation only ever raises urgency: a record reading "escalated to P4" would mislead an auditor.
  if (priority !== undefined && priority > incident.priority) {
    invalid('priority', `Escalation cannot lower the priority of ${label} from P${incident.priority} to P${priority}.`, {
      current: incident.priority,
    });
  }
  const agenciesAdded = unionAgencies(d.agencies === undefined ? [] : requireAgencies(d.agencies)).filter((a) => !incident.agencies.includes(a));
  const raised = priority !== undefined && priority < incident.priority;
  if (!raised && agenciesAdded.length === 0) {
    invalid('priority', `Nothing to escalate: ${label} is already P${incident.priority} with ${listWords(incident.agencies, 'and')}.`, {
      current: { priority: incident.priority, agencies: incident.agencies },
    });
  }
  return { type: 'IncidentEscalated', data: raised ? { priority, agenciesAdded } : { agenciesAdded } };
}

function unitAssigned(command: CommandOf<'RecordUnitAssignment'>, { state, incident, label }: Ctx): IncidentEvent {
  const d = command.data ?? ({} as CommandOf<'RecordUnitAssignment'>['data']);
  const unitId = requireText('unitId', d.unitId, 'The unit id', INCIDENT_LIMITS.id);
  const agency = requireAgency(d.agency);
  const callSign = requireText('callSign', d.callSign, 'The call sign', INCIDENT_LIMITS.callSign);
  const existing = state.context.units[unitId];
  if (existing && existing.status !== 'cleared') {
    throw new DomainError('conflict', `Unit ${existing.callSign} is already assigned to ${label} (${ASSIGNMENT_STATUS_WORDS[existing.status]}).`, {
      state: incidentStateName(state),
      unitId,
      unitStatus: existing.status,
    });
  }
  if (!incident.agencies.includes(agency)) {
    invalid('agency', `${label} needs units from ${listWords(incident.agencies)}; unit ${callSign} belongs to ${agency}. Escalate the incident to add ${agency} first.`, {
      needed: incident.agencies,
    });
  }
  const leg = state.context.coordination?.legs[agency];
  if (leg?.phase === 'requested') {
    throw new DomainError('invalid_state', `${agency} has been asked for mutual aid on ${label} but has not accepted yet; accept the request before sending unit ${callSign}.`, {
      state: incidentStateName(state),
      agency,
    });
  }
  if (leg?.phase === 'declined') {
    throw new DomainError('invalid_state', `${agency} declined mutual aid on ${label}; request mutual aid again before sending unit ${callSign}.`, {
      state: incidentStateName(state),
      agency,
    });
  }
  const unitType = d.unitType === undefined ? undefined : UNIT_TYPES.find((t) => t.id === d.unitType && t.agency === agency)?.id;
  if (d.unitType !== undefined && unitType === undefined) invalid('unitType', `A ${String(d.unitType)} is not a unit type of ${agency}.`);
  return { type: 'UnitAssignedToIncident', data: unitType === undefined ? { unitId, agency, callSign } : { unitId, agency, callSign, unitType } };
}

function unitStatusChanged(command: CommandOf<'RecordUnitStatus'>, { state, label }: Ctx): IncidentEvent {
  const d = command.data ?? ({} as CommandOf<'RecordUnitStatus'>['data']);
  const unitId = requireText('unitId', d.unitId, 'The unit id', INCIDENT_LIMITS.id);
  if (!(ASSIGNED_UNIT_STATUSES as readonly unknown[]).includes(d.status)) {
    invalid('status', `Unknown unit status ${JSON.stringify(d.status)}; use one of ${listWords(ASSIGNED_UNIT_STATUSES.map((s) => s))}.`);
  }
  const status: AssignedUnitStatus = d.status;
  const unit = state.context.units[unitId];
  const details = { state: incidentStateName(state), unitId };
  if (!unit) throw new DomainError('invalid_state', `That unit is not assigned to ${label}; assign it before reporting its status.`, details);
  if (unit.status === 'cleared') {
    throw new DomainError('invalid_state', `Unit ${unit.callSign} has been cleared from ${label}; assign it again before reporting it ${ASSIGNMENT_STATUS_WORDS[status]}.`, {
      ...details,
      unitStatus: unit.status,
    });
  }
  const at = ASSIGNMENT_STATUS_ORDER.indexOf(unit.status);
  if (ASSIGNMENT_STATUS_ORDER.indexOf(status) <= at) {
    const next = ASSIGNMENT_STATUS_ORDER.slice(at + 1).map((s) => ASSIGNMENT_STATUS_WORDS[s]);
    throw new DomainError(
      'invalid_state',
      `Unit ${unit.callSign} is already ${ASSIGNMENT_STATUS_WORDS[unit.status]} at ${label}; it can only move on to ${listWords(next)}, not to ${ASSIGNMENT_STATUS_WORDS[status]}.`,
      { ...details, unitStatus: unit.status, allowedStatuses: ASSIGNMENT_STATUS_ORDER.slice(at + 1) },
    );
  }
  return { type: 'AssignedUnitStatusChanged', data: { unitId, status } };
}

function requireNoOpenEnforcement({ state, label }: Ctx): void {
  const e = state.context.coordination?.enforcement;
  if (!e) return;
  if (e.stage === 'rectification_ordered') {
    throw new DomainError('invalid_state', `${label} cannot be resolved while its rectification order runs (due ${e.dueAt?.slice(0, 10)}); record the re-inspection first.`, {
      state: incidentStateName(state),
      enforcement: e.stage,
    });
  }
  if (e.stage === 'inspected' && e.violationFound) {
    throw new DomainError('invalid_state', `${label} cannot be resolved: the inspection found a violation; order its rectification first.`, {
      state: incidentStateName(state),
      enforcement: e.stage,
    });
  }
}

export function requireUnitsCleared({ state, label }: Ctx, outcome: 'resolved' | 'cancelled' | 'merged'): void {
  const working = activeUnits(state.context);
  if (working.length === 0) return;
  const signs = working.map((u) => u.callSign);
  throw new DomainError('invalid_state', `${label} cannot be ${outcome} while units are still working it: clear units ${signs.join(', ')} first.`, {
    state: incidentStateName(state),
    activeUnits: working,
  });
}
