import type { Agency, IncidentSource, IncidentType, Location, Priority } from '../catalog.ts';
import { allowedCoordinationCommands, allowedIncidentCommands, incidentStateName, type IncidentState } from './incident.allowed.ts';
import type { IncidentCommandType } from './incident.commands.ts';
import type { ReporterContact } from './incident.events.ts';
import { incidentLabel } from './incident.label.ts';
import type { AssignmentStatus, IncidentStateName } from './incident.machine.ts';
import { coordinationView, type CoordinationView } from './coordination.ts';

export interface IncidentUnitView {
  unitId: string;
  agency: Agency;
  callSign: string;
  status: AssignmentStatus;
}

/** A plain, serialisable picture of one incident for the API, projections and the web app. */
export interface IncidentView {
  id: string;
  label: string;
  /** A duplicate merged into another incident shows as closed (with `coordination.mergedInto`). */
  status: Exclude<IncidentStateName, 'merged'>;
  type: IncidentType;
  priority: Priority;
  location: Location;
  address?: string;
  description?: string;
  source: IncidentSource;
  reporter?: ReporterContact;
  agencies: Agency[];
  units: IncidentUnitView[];
  noteCount: number;
  escalationCount: number;
  reopenCount: number;
  summary?: string;
  cancelReason?: string;
  reopenReason?: string;
  /** Commands the current state accepts, for showing the right buttons. */
  allowedCommands: IncidentCommandType[];
}

/** Legs per agency with the response plan applied, lead, merges, overdue alerts, enforcement case; null before the report. */
export function incidentCoordination(state: IncidentState): (CoordinationView & { allowedCommands: IncidentCommandType[] }) | null {
  const incident = state.context.incident;
  if (!incident) return null;
  return { ...coordinationView(state.context.coordination, incident), allowedCommands: allowedCoordinationCommands(state) };
}

/** Null while the incident has not been reported: there is nothing to show. */
export function incidentView(state: IncidentState): IncidentView | null {
  const { incident, units, noteCount, escalationCount, reopenCount, summary, cancelReason, reopenReason } = state.context;
  if (!incident) return null;
  const view: IncidentView = {
    id: incident.incidentId,
    label: incidentLabel(incident.incidentId),
    status: ((name) => (name === 'merged' ? 'closed' : name))(incidentStateName(state)) as Exclude<IncidentStateName, 'merged'>,
    type: incident.type,
    priority: incident.priority,
    location: { ...incident.location },
    source: incident.source,
    agencies: [...incident.agencies],
    units: Object.entries(units).map(([unitId, u]) => ({ unitId, agency: u.agency, callSign: u.callSign, status: u.status })),
    noteCount,
    escalationCount,
    reopenCount,
    allowedCommands: allowedIncidentCommands(state),
  };
  if (incident.address !== undefined) view.address = incident.address;
  if (incident.description !== undefined) view.description = incident.description;
  if (incident.reporter !== undefined) view.reporter = { ...incident.reporter };
  if (summary !== undefined) view.summary = summary;
  if (cancelReason !== undefined) view.cancelReason = cancelReason;
  if (reopenReason !== undefined) view.reopenReason = reopenReason;
  return view;
}
