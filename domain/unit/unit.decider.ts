import { initialTransition } from 'xstate';
import { UNIT_TYPES } from '../catalog.ts';
import type { Decider } from '../decider.ts';
import { nextSnapshot } from '../machineTransition.ts';
import { DomainError } from '../errors.ts';
import { ASSIGNED_UNIT_STATUSES, type AssignedUnitStatus } from '../incident/incident.events.ts';
import { incidentLabel } from '../incident/incident.label.ts';
import { compact, invalid, listWords, optionalNumber, optionalText, requireAgency, requireLocation, requireText } from '../validation.ts';
import {
  UNIT_COMMAND_WORDS,
  allowedUnitCommands,
  assignmentWords,
  fieldStatusWords,
  nextUnitStatuses,
  unitAssignment,
  unitLabel,
  unitReadiness,
  unitStateRejection,
  unitAccepts,
  unitStatusEvent,
  type UnitState,
} from './unit.allowed.ts';
import type { UnitCommand } from './unit.commands.ts';
import type { UnitEvent } from './unit.events.ts';
import { unitMachine } from './unit.machine.ts';

export type { UnitState } from './unit.allowed.ts';

export const UNIT_LIMITS = {
  id: 100,
  callSign: 32,
  homeStation: 200,
  reason: 500,
  destination: 200,
  maxSpeedKmh: 400,
} as const;

type CommandOf<T extends UnitCommand['type']> = Extract<UnitCommand, { type: T }>;

function evolve(state: UnitState, event: UnitEvent): UnitState {
  return nextSnapshot(unitMachine, state, event);
}

export const unitDecider: Decider<UnitState, UnitCommand, UnitEvent> = {
  initialState: () => initialTransition(unitMachine)[0],
  evolve,
  decide(command, state) {
    if (!Object.hasOwn(UNIT_COMMAND_WORDS, command?.type)) {
      throw new DomainError('invalid_payload', `Unknown unit command ${JSON.stringify(command?.type)}.`, { field: 'type' });
    }
    try {
      if (!unitAccepts(state, command.type)) throw unitStateRejection(state, command.type);
      const events = candidateEvents(command, state);
      // Explicit because XState ignores an event no state handles: a silent no-op must never be stored.
      let current = state;
      for (const event of events) {
        if (!current.can(event)) throw cannotApply(current, command, event);
        current = evolve(current, event);
      }
      return events;
    } catch (error) {
      if (error instanceof DomainError) {
        throw new DomainError(error.code, error.message, {
          state: state.value,
          readiness: unitReadiness(state),
          assignment: unitAssignment(state),
          allowed: allowedUnitCommands(state),
          command: command.type,
          ...error.details,
        });
      }
      throw error;
    }
  },
};

function candidateEvents(command: UnitCommand, state: UnitState): UnitEvent[] {
  switch (command.type) {
    case 'RegisterUnit':
      return [registered(command)];
    case 'MarkOutOfService':
      return [{ type: 'UnitMarkedOutOfService', data: { reason: requireText('reason', command.data?.reason, 'A reason', UNIT_LIMITS.reason) } }];
    case 'ReturnToService':
      return [{ type: 'UnitReturnedToService', data: {} }];
    case 'DispatchUnit':
      return [{ type: 'UnitDispatched', data: { incidentId: requireText('incidentId', command.data?.incidentId, 'The incident id', UNIT_LIMITS.id) } }];
    case 'ChangeUnitStatus': {
      const incidentId = requireServedIncident(state, command.data?.incidentId);
      const status = command.data.status;
      if (!(ASSIGNED_UNIT_STATUSES as readonly unknown[]).includes(status)) {
        invalid('status', `Unknown unit status ${JSON.stringify(status)}; use one of ${listWords([...ASSIGNED_UNIT_STATUSES])}.`);
      }
      const destination = status === 'transporting' ? optionalText('destination', command.data.destination, 'The destination', UNIT_LIMITS.destination) : undefined;
      return [unitStatusEvent(status, incidentId, destination)];
    }
    case 'ReleaseAssignment': {
      const incidentId = requireServedIncident(state, command.data?.incidentId);
      return [{ type: 'UnitAssignmentReleased', data: { incidentId, reason: requireText('reason', command.data.reason, 'A reason', UNIT_LIMITS.reason) } }];
    }
    case 'ReportLocation': {
      const d = command.data ?? ({} as CommandOf<'ReportLocation'>['data']);
      return [
        {
          type: 'UnitLocationReported',
          data: compact({
            position: requireLocation(d.position, 'position'),
            heading: optionalNumber('heading', d.heading, 'The heading', 0, 360),
            speedKmh: optionalNumber('speedKmh', d.speedKmh, 'The speed', 0, UNIT_LIMITS.maxSpeedKmh),
          }),
        },
      ];
    }
  }
}

function registered(command: CommandOf<'RegisterUnit'>): UnitEvent {
  const d = command.data ?? ({} as CommandOf<'RegisterUnit'>['data']);
  const unitId = requireText('unitId', d.unitId, 'The unit id', UNIT_LIMITS.id);
  const agency = requireAgency(d.agency);
  const unitType = UNIT_TYPES.find((t) => t.id === d.unitType);
  if (!unitType) invalid('unitType', `Unknown unit type ${JSON.stringify(d.unitType)}; known types: ${UNIT_TYPES.map((t) => t.id).join(', ')}.`);
  if (unitType.agency !== agency) {
    const own = UNIT_TYPES.filter((t) => t.agency === agency).map((t) => t.id);
    invalid('unitType', `A ${unitType.en.toLowerCase()} belongs to ${unitType.agency}, not ${agency}; ${agency} units are ${listWords(own)}.`, {
      unitTypesForAgency: own,
    });
  }
  return {
    type: 'UnitRegistered',
    data: compact({
      unitId,
      agency,
      callSign: requireText('callSign', d.callSign, 'The call sign', UNIT_LIMITS.callSign),
      unitType: unitType.id,
      homeStation: requireText('homeStation', d.homeStation, 'The home station', UNIT_LIMITS.homeStation),
      position: d.position === undefined ? undefined : requireLocation(d.position, 'position'),
    }),
  };
}

/** Field reports must name the incident the unit serves, so a stale screen cannot move the wrong assignment. */
function requireServedIncident(state: UnitState, incidentId: unknown): string {
  const id = requireText('incidentId', incidentId, 'The incident id', UNIT_LIMITS.id);
  const served = state.context.incidentId;
  if (served !== id) {
    throw new DomainError(
      'invalid_state',
      `${unitLabel(state)} is ${assignmentWords(state)}, not serving ${incidentLabel(id)}.`,
      { servedIncidentId: served ?? null, incidentId: id },
    );
  }
  return id;
}

function cannotApply(state: UnitState, command: UnitCommand, event: UnitEvent): DomainError {
  if (command.type === 'ChangeUnitStatus') {
    const next = nextUnitStatuses(state);
    const status: AssignedUnitStatus = command.data.status;
    return new DomainError(
      'invalid_state',
      `${unitLabel(state)} is ${assignmentWords(state)}; next it can be ${listWords(next.map(fieldStatusWords))}, not ${fieldStatusWords(status)}.`,
      { nextStatuses: next, event: event.type },
    );
  }
  return unitStateRejection(state, command.type);
}
