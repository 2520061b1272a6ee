import type { Sql, TransactionSql } from 'postgres';
import type { LogPosition, RecordedEvent } from '../eventstore/port.ts';
import { foldIncident, INCIDENT_BOARD_COLUMNS, type IncidentBoardRow } from './incidentBoard.ts';
import { EVENT_LOG_COLUMNS, eventLogRow, toProjected, type ProjectedEvent } from './projectedEvent.ts';
import { foldUnit, UNIT_BOARD_COLUMNS, type UnitBoardRow } from './unitBoard.ts';

// Callers configure postgres.js type parsers differently; the read models only rely on text and JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = Sql<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tx = TransactionSql<any>;

/**
 * Runs a statement as a named prepared statement. The embedded PGlite's socket server interleaves
 * connections message by message, so the unnamed statement unprepared queries use can be replaced by another
 * connection's between Parse and Bind (see eventstore/embedded.ts); named statements are per connection.
 */
export function query<T extends readonly unknown[]>(db: Db | Tx, text: string, params: readonly unknown[] = []): Promise<T> {
  return db.unsafe(text, params as never[], { prepare: true }) as unknown as Promise<T>;
}

/** Every table this projection owns; a rebuild empties exactly these (plus its checkpoint row). */
export const READ_MODEL_TABLES = ['event_log', 'incident_board', 'unit_board'] as const;

/** Where a test can make a batch fail, to prove that nothing of a failed batch survives. */
export type FaultPoint =
  | { stage: 'event'; index: number; event: ProjectedEvent }
  | { stage: 'event_log' | 'incident_board' | 'unit_board' | 'checkpoint' };
export type FaultHook = (point: FaultPoint) => void | Promise<void>;

export interface AppliedBatch {
  /** Events newly written to the read models. */
  applied: number;
  /** Events already in event_log (a redelivery), skipped. */
  duplicates: number;
  /** seq of the last event of the batch in event_log, redelivered ones included. */
  lastSeq: number;
  /** Position of the batch's last event, duplicates included: the checkpoint moves past them. */
  lastPosition: LogPosition;
  incidentsWritten: number;
  unitsWritten: number;
}

function populate(table: string, columns: readonly string[]): string {
  const list = columns.join(', ');
  return `insert into ${table} (${list}) select ${list} from json_populate_recordset(null::${table}, $1::text::json)`;
}

function upsert(table: string, columns: readonly string[]): string {
  const updates = columns.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ');
  return `${populate(table, columns)} on conflict (id) do update set ${updates}`;
}

// A whole batch travels as one JSON parameter: one round trip per table whatever the batch size,
// and no 65,535-parameter ceiling on multi-row VALUES.
const INSERT_EVENT_LOG = populate('event_log', EVENT_LOG_COLUMNS);
const UPSERT_INCIDENTS = upsert('incident_board', INCIDENT_BOARD_COLUMNS);
const UPSERT_UNITS = upsert('unit_board', UNIT_BOARD_COLUMNS);

async function loadRows<Row>(tx: Tx, table: 'incident_board' | 'unit_board', ids: string[]): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>();
  if (ids.length === 0) return rows;
  // row_to_json keeps full timestamp precision and the server's own number text, so a row read here
  // and written back unchanged is byte-for-byte what a rebuild would write.
  const found = await query<Array<{ r: string }>>(tx, `select row_to_json(t)::text as r from ${table} t where id = any($1::text[])`, [ids]);
  for (const { r } of found) {
    const row = JSON.parse(r) as Row & { id: string };
    rows.set(row.id, row);
  }
  return rows;
}

/**
 * Applies events (in log order) to event_log, incident_board and unit_board inside the caller's transaction.
 * `afterSeq` is the seq of the last event already applied; new events continue from it. Rows are folded in
 * memory and written once per id, so a batch costs a handful of statements whatever its size.
 */
export async function applyBatch(
  tx: Tx,
  events: readonly RecordedEvent[],
  afterSeq: number,
  options: { fault?: FaultHook } = {},
): Promise<AppliedBatch> {
  const last = events.at(-1);
  if (!last) throw new Error('applyBatch needs at least one event');
  const fault = options.fault;

  // The checkpoint already guarantees exactly-once; this catches a store that redelivers, or a checkpoint
  // restored from an older backup than the tables.
  const ids = [...new Set(events.map((e) => e.id))];
  const known = await query<Array<{ id: string; seq: string }>>(
    tx,
    'select event_id::text as id, seq::text as seq from event_log where event_id = any($1::uuid[])',
    [ids],
  );
  const skip = new Set(known.map((k) => k.id));

  const fresh: ProjectedEvent[] = [];
  // Numbering goes on after the redelivered events, not after the stale checkpoint, so seq stays unique.
  let seq = known.reduce((max, k) => Math.max(max, Number(k.seq)), afterSeq);
  for (const event of events) {
    if (skip.has(event.id)) continue;
    skip.add(event.id);
    fresh.push(toProjected(event, ++seq));
  }
  const result: AppliedBatch = {
    applied: fresh.length,
    duplicates: events.length - fresh.length,
    lastSeq: seq,
    lastPosition: last.position,
    incidentsWritten: 0,
    unitsWritten: 0,
  };
  if (fresh.length === 0) return result;

  const incidentIds = new Set<string>();
  const unitIds = new Set<string>();
  for (const e of fresh) {
    if (e.entity === 'incident') incidentIds.add(e.entityId);
    else if (e.entity === 'unit') unitIds.add(e.entityId);
  }
  const [incidents, units] = await Promise.all([
    loadRows<IncidentBoardRow>(tx, 'incident_board', [...incidentIds]),
    loadRows<UnitBoardRow>(tx, 'unit_board', [...unitIds]),
  ]);
  const touchedIncidents = new Set<string>();
  const touchedUnits = new Set<string>();
  for (const [index, e] of fresh.entries()) {
    if (fault) await fault({ stage: 'event', index, event: e });
    if (e.entity === 'incident') {
      const row = foldIncident(incidents.get(e.entityId), e);
      if (row) {
        incidents.set(e.entityId, row);
        touchedIncidents.add(e.entityId);
      }
    } else if (e.entity === 'unit') {
      const row = foldUnit(units.get(e.entityId), e);
      if (row) {
        units.set(e.entityId, row);
        touchedUnits.add(e.entityId);
      }
    }
  }

  await query(tx, INSERT_EVENT_LOG, [JSON.stringify(fresh.map(eventLogRow))]);
  if (fault) await fault({ stage: 'event_log' });
  if (touchedIncidents.size > 0) {
    await query(tx, UPSERT_INCIDENTS, [JSON.stringify([...touchedIncidents].map((id) => incidents.get(id)))]);
  }
  if (fault) await fault({ stage: 'incident_board' });
  if (touchedUnits.size > 0) {
    await query(tx, UPSERT_UNITS, [JSON.stringify([...touchedUnits].map((id) => units.get(id)))]);
  }
  if (fault) await fault({ stage: 'unit_board' });
  result.incidentsWritten = touchedIncidents.size;
  result.unitsWritten = touchedUnits.size;
  return result;
}

/** Empties the read models; the caller resets the checkpoint in the same transaction. */
export async function truncateReadModels(tx: Tx): Promise<void> {
  await query(tx, `truncate ${READ_MODEL_TABLES.join(', ')}`);
}
