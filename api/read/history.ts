import type { Sql } from 'postgres';
import { Type, type Static } from 'typebox';
import { Closed, Nullable } from '../http/schemas.ts';

export const HistoryEntry = Closed({
  position: Type.Integer({ description: 'Place in the global log (event_log.seq)' }),
  streamId: Type.String(),
  entity: Type.String({ description: 'incident | unit' }),
  entityId: Type.String(),
  revision: Type.Integer({ description: "Revision within the event's own stream" }),
  type: Type.String(),
  data: Type.Unknown(),
  actor: Nullable(Type.String()),
  actorName: Nullable(Type.String()),
  role: Nullable(Type.String()),
  agency: Nullable(Type.String()),
  occurredAt: Type.String({ format: 'date-time', description: 'Business time: when the command was given' }),
  recordedAt: Type.String({ format: 'date-time', description: 'When the store wrote it' }),
  reason: Nullable(Type.String()),
  commandId: Nullable(Type.String()),
  correlationId: Nullable(Type.String()),
  causationId: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
});
export type HistoryEntry = Static<typeof HistoryEntry>;

const iso = (value: unknown): string => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString());
const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** Every event about one incident, its units' events included, in log order. */
export async function incidentHistory(sql: Sql, incidentId: string): Promise<HistoryEntry[]> {
  const rows = await sql`
    select e.*, u.username as actor_name
      from event_log e left join users u on u.id = e.actor
     where e.incident_id = ${incidentId}
     order by e.seq`;
  return rows.map((row) => ({
    position: Number(row.seq),
    streamId: String(row.stream_id),
    entity: String(row.entity),
    entityId: String(row.entity_id),
    revision: Number(row.stream_revision),
    type: String(row.type),
    data: row.data,
    actor: text(row.actor),
    actorName: text(row.actor_name),
    role: text(row.role),
    agency: text(row.agency),
    occurredAt: iso(row.occurred_at),
    recordedAt: iso(row.recorded_at),
    reason: text(row.reason),
    commandId: text(row.command_id),
    correlationId: text(row.correlation_id),
    causationId: text(row.causation_id),
    requestId: text(row.request_id),
  }));
}
