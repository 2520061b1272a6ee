import type { Sql } from 'postgres';
import type { CommittedChange } from '../../projections/readModels.ts';

/**
 * One event_log row with the current board row it concerns, as the feed reads it (or as the projector in this
 * process hands it over: the same shape).
 */
export type FeedRow = CommittedChange;

interface EventLogRow {
  seq: string;
  entity: 'incident' | 'unit';
  entity_id: string;
  incident_id: string | null;
  type: string;
  data: unknown;
  actor: string | null;
  occurred_at: Date;
}

type BoardRow = Record<string, unknown> & { id: string };

/** The newest position in the log (0 when it is empty). */
export async function logHead(sql: Sql): Promise<number> {
  const [row] = await sql<{ head: string | null }[]>`select max(seq)::text as head from event_log`;
  return Number(row?.head ?? 0);
}

/**
 * Events after `after`, oldest first, each with the current row of its incident (incident events) or unit
 * (unit events). Boards are read by id after the events rather than joined, so the rows come back typed
 * exactly as the API's own queries see them.
 */
export async function readChanges(sql: Sql, after: number, limit: number): Promise<FeedRow[]> {
  const events = await sql<EventLogRow[]>`
    select e.seq::text as seq, e.entity, e.entity_id, e.incident_id, e.type, e.data, e.actor, e.occurred_at
    from event_log e where e.seq > ${after} order by e.seq limit ${limit}`;
  if (events.length === 0) return [];
  const incidentIds = [...new Set(events.filter((e) => e.entity === 'incident').map((e) => e.entity_id))];
  const unitIds = [...new Set(events.filter((e) => e.entity === 'unit').map((e) => e.entity_id))];
  const [incidents, units] = await Promise.all([
    incidentIds.length ? sql<BoardRow[]>`select * from incident_board where id = any(${incidentIds})` : [],
    unitIds.length ? sql<BoardRow[]>`select * from unit_board where id = any(${unitIds})` : [],
  ]);
  const incidentById = new Map(incidents.map((r) => [r.id, r]));
  const unitById = new Map(units.map((r) => [r.id, r]));
  return events.map((e) => ({
    position: Number(e.seq),
    entity: e.entity,
    entityId: e.entity_id,
    incidentId: e.incident_id,
    type: e.type,
    data: e.data,
    actor: e.actor,
    occurredAt: e.occurred_at,
    ...(e.entity === 'incident' && incidentById.has(e.entity_id) && { incident: incidentById.get(e.entity_id) }),
    ...(e.entity === 'unit' && unitById.has(e.entity_id) && { unit: unitById.get(e.entity_id) }),
  }));
}

export interface Snapshot {
  position: number;
  incidents: BoardRow[];
  units: BoardRow[];
}

/**
 * The boards as of one position. A repeatable-read transaction makes the rows and the position one picture:
 * the projector writes boards and event_log in the same transaction, so no change can fall between them.
 */
export async function readSnapshot(sql: Sql): Promise<Snapshot> {
  const result = await sql.begin('isolation level repeatable read read only', async (tx) => {
    const [head] = await tx<{ head: string | null }[]>`select max(seq)::text as head from event_log`;
    const incidents = await tx<BoardRow[]>`
      select * from incident_board where status not in ('closed', 'cancelled') order by priority, reported_at`;
    const units = await tx<BoardRow[]>`select * from unit_board order by agency, call_sign`;
    return { position: Number(head?.head ?? 0), incidents: [...incidents], units: [...units] };
  });
  return result as Snapshot;
}
