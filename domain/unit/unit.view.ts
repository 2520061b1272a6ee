import type { Agency, Location, UnitType } from '../catalog.ts';
import { allowedUnitCommands, unitAssignment, unitReadiness, type UnitState } from './unit.allowed.ts';
import type { UnitCommandType } from './unit.commands.ts';
import type { UnitAssignmentState, UnitReadiness } from './unit.machine.ts';

/** A plain, serialisable picture of one unit for the API, projections and the web app. */
export interface UnitView {
  id: string;
  agency: Agency;
  callSign: string;
  unitType: UnitType;
  homeStation: string;
  readiness: UnitReadiness;
  status: UnitAssignmentState;
  incidentId: string | null;
  position: Location | null;
  heading?: number;
  speedKmh?: number;
  destination?: string;
  outOfServiceReason?: string;
  /** Commands the current state accepts, for showing the right buttons. */
  allowedCommands: UnitCommandType[];
}

/** Null while the unit has not been registered: there is nothing to show. */
export function unitView(state: UnitState): UnitView | null {
  const { unit, position, heading, speedKmh, incidentId, destination, outOfServiceReason } = state.context;
  const readiness = unitReadiness(state);
  const status = unitAssignment(state);
  if (!unit || readiness === null || status === null) return null;
  const view: UnitView = {
    id: unit.unitId,
    agency: unit.agency,
    callSign: unit.callSign,
    unitType: unit.unitType,
    homeStation: unit.homeStation,
    readiness,
    status,
    incidentId: incidentId ?? null,
    position: position ? { ...position } : null,
    allowedCommands: allowedUnitCommands(state),
  };
  if (heading !== undefined) view.heading = heading;
  if (speedKmh !== undefined) view.speedKmh = speedKmh;
  if (destination !== undefined) view.destination = destination;
  if (outOfServiceReason !== undefined) view.outOfServiceReason = outOfServiceReason;
  return view;
}
