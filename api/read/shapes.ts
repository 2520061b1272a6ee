import { Type, type Static } from 'typebox';
import { coordinationView, incidentLabel, isIncidentType, isPriority, type Agency, type Coordination } from '../../domain/index.ts';
import { Closed, Nullable } from '../http/schemas.ts';

// Board rows as every client sees them: the query routes and the live feed send these same shapes, so a
// client can patch what it listed with what the feed pushes.

type Row = Record<string, unknown>;

const When = Nullable(Type.String({ format: 'date-time' }));

function LegItem() {
  return Type.Object(
    {
      agency: Type.String(),
      status: Type.String({ description: 'requested | declined | pending | dispatched | on_scene | cleared | done' }),
      lead: Type.Boolean(),
      owner: Nullable(Type.String({ description: 'The dispatcher (user id) who owns the leg' })),
      units: Type.Array(Type.Object({ unitId: Type.String(), callSign: Type.String(), unitType: Type.Optional(Type.String()), status: Type.String() })),
      required: Type.Array(Type.Object({ unitType: Type.String(), count: Type.Integer() })),
      missing: Type.Array(Type.Object({ unitType: Type.String(), count: Type.Integer() })),
      requestedBy: Type.Optional(Type.String()),
      note: Type.Optional(Type.String()),
      declineReason: Type.Optional(Type.String()),
      summary: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  );
}

export const IncidentItem = Closed({
  id: Type.String(),
  label: Type.String({ description: 'Short name to read out over the radio, e.g. INC-1a2b3c4d' }),
  status: Type.String(),
  type: Type.String(),
  priority: Type.Integer(),
  location: Closed({ lat: Type.Number(), lng: Type.Number() }),
  address: Nullable(Type.String()),
  description: Nullable(Type.String()),
  source: Type.String(),
  agencies: Type.Array(Type.String()),
  units: Type.Array(Type.String(), { description: 'Units assigned and not yet cleared' }),
  allUnits: Type.Array(Type.String(), { description: 'Every unit ever assigned' }),
  notesCount: Type.Integer(),
  revision: Type.Integer({ description: "The incident stream's revision (the ETag of command responses)" }),
  reportedAt: Type.String({ format: 'date-time' }),
  triagedAt: When,
  firstDispatchedAt: When,
  firstEnRouteAt: When,
  firstOnSceneAt: When,
  resolvedAt: When,
  closedAt: When,
  cancelledAt: When,
  updatedAt: Type.String({ format: 'date-time' }),
  lastSeq: Type.Integer({ description: 'Log position of the last event applied to this row' }),
  legs: Type.Array(LegItem(), { description: 'One leg per agency involved, with the response plan applied' }),
  lead: Nullable(Type.String({ description: 'The lead agency' })),
  planId: Type.String({ description: 'The response plan (run card) applied: type/priority' }),
  missing: Type.Array(Type.Object({ agency: Type.String(), unitType: Type.String(), count: Type.Integer() }), { description: 'Units the plan asks for that are not assigned yet' }),
  overdue: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'Status timers that have fired and not cleared' }),
  mergedInto: Nullable(Type.String({ description: 'Set when this incident was closed as a duplicate of another' })),
  mergedFrom: Type.Array(Type.String(), { description: 'Duplicates merged into this incident' }),
  mergedReports: Type.Array(Type.Object({}, { additionalProperties: true })),
  mergedNotes: Type.Array(Type.String()),
  enforcement: Nullable(Type.Object({}, { additionalProperties: true, description: 'The enforcement case (inspection, rectification order, re-inspection)' })),
});
export type IncidentItem = Static<typeof IncidentItem>;

export const UnitItem = Closed({
  id: Type.String(),
  callSign: Type.String(),
  agency: Type.String(),
  type: Type.String(),
  homeStation: Type.String(),
  readiness: Type.String({ description: 'available | out_of_service' }),
  status: Type.String({ description: 'idle | dispatched | en_route | on_scene | transporting | at_hospital' }),
  incidentId: Nullable(Type.String()),
  position: Nullable(Closed({ lat: Type.Number(), lng: Type.Number() })),
  revision: Type.Integer(),
  statusSince: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  lastSeq: Type.Integer(),
});
export type UnitItem = Static<typeof UnitItem>;

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

function texts(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

export function incidentShape(row: Row): IncidentItem {
  const id = String(row.id);
  return {
    id,
    label: incidentLabel(id),
    status: String(row.status),
    type: String(row.type),
    priority: Number(row.priority),
    location: { lat: Number(row.lat), lng: Number(row.lng) },
    address: (row.address as string | null) ?? null,
    description: (row.description as string | null) ?? null,
    source: String(row.source),
    agencies: texts(row.agencies),
    units: texts(row.units),
    allUnits: texts(row.all_units),
    notesCount: Number(row.notes_count),
    revision: Number(row.revision),
    reportedAt: iso(row.reported_at) ?? '',
    triagedAt: iso(row.triaged_at),
    firstDispatchedAt: iso(row.first_dispatched_at),
    firstEnRouteAt: iso(row.first_en_route_at),
    firstOnSceneAt: iso(row.first_on_scene_at),
    resolvedAt: iso(row.resolved_at),
    closedAt: iso(row.closed_at),
    cancelledAt: iso(row.cancelled_at),
    updatedAt: iso(row.updated_at) ?? '',
    lastSeq: Number(row.last_seq),
    ...coordinationShape(row),
  };
}

function coordinationShape(row: Row) {
  const type = isIncidentType(row.type) ? row.type : 'traffic_accident';
  const priority = isPriority(Number(row.priority)) ? (Number(row.priority) as 1) : 3;
  const raw = typeof row.coordination === 'string' ? (JSON.parse(row.coordination) as Coordination) : ((row.coordination as Coordination | null | undefined) ?? null);
  const view = coordinationView(raw, { type, priority, agencies: texts(row.agencies) as Agency[] });
  return {
    legs: view.legs,
    lead: view.lead,
    planId: view.planId,
    missing: view.missing,
    overdue: view.overdue as unknown as Record<string, unknown>[],
    mergedInto: view.mergedInto,
    mergedFrom: view.mergedFrom,
    mergedReports: view.mergedReports as unknown as Record<string, unknown>[],
    mergedNotes: view.mergedNotes,
    enforcement: view.enforcement as unknown as Record<string, unknown> | null,
  };
}

export function unitShape(row: Row): UnitItem {
  return {
    id: String(row.id),
    callSign: String(row.call_sign),
    agency: String(row.agency),
    type: String(row.unit_type),
    homeStation: String(row.home_station),
    readiness: String(row.readiness),
    status: String(row.status),
    incidentId: (row.incident_id as string | null) ?? null,
    position: row.lat === null || row.lat === undefined ? null : { lat: Number(row.lat), lng: Number(row.lng) },
    revision: Number(row.revision),
    statusSince: iso(row.status_since) ?? '',
    updatedAt: iso(row.updated_at) ?? '',
    lastSeq: Number(row.last_seq),
  };
}
