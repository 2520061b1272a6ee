import {
  incidentDecider,
  incidentStream,
  unitDecider,
  unitStream,
  type IncidentCommand,
  type IncidentEvent,
  type IncidentState,
  type UnitCommand,
  type UnitEvent,
  type UnitState,
} from '../../domain/index.ts';
import type { Aggregate } from './commandHandler.ts';

export const incidents: Aggregate<IncidentState, IncidentCommand, IncidentEvent> = { decider: incidentDecider, stream: incidentStream };
export const units: Aggregate<UnitState, UnitCommand, UnitEvent> = { decider: unitDecider, stream: unitStream };
