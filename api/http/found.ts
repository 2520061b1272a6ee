import { incidentLabel, incidentView, unitView, type IncidentState, type IncidentView, type UnitState, type UnitView } from '../../domain/index.ts';
import { notFound } from './problem.ts';

// Command routes decide who may act from the streams themselves, not from the read models: a board a
// moment behind must not let a dispatcher act on an incident that has just been handed to another agency.
// These run inside the command handler on the state it has just loaded (see HandleOptions.authorize).

export function existingIncident(state: IncidentState, id: string): IncidentView {
  const view = incidentView(state);
  if (!view) throw notFound(`There is no incident ${incidentLabel(id)} (${id}).`, { incidentId: id });
  return view;
}

export function existingUnit(state: UnitState, id: string): UnitView {
  const view = unitView(state);
  if (!view) throw notFound(`There is no unit ${id}.`, { unitId: id });
  return view;
}
