import type { Sql, TransactionSql } from 'postgres';
import type { LogPosition, RecordedEvent } from '../eventstore/port.ts';
import { foldIncident, INCIDENT_BOARD_COLUMNS, type IncidentBoardRow } from './incidentBoard.ts';
import { entityOf, EVENT_LOG_COLUMNS, eventLogRow, toProjected, type ProjectedEvent } from './projectedEvent.ts';
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
  // Sent now, not when first awaited (postgres.js queries are lazy): statements pipelined on one connection must
  // reach it in the order they were written, or a COMMIT awaited first would overtake the writes before it.
  return db.unsafe(text, params as never[], { prepare: true }).execute() as unknown as Promise<T>;
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
  /** The new event_log rows, each with its board row as the batch left it (what the live feed sends). */
  changes: CommittedChange[];
  /** The board rows the batch wrote, as folded (what a BoardMemory remembers once the batch has committed). */
  rows?: Touched;
}

/** One applied event as the live feed reads it back from event_log and the boards, without reading it back. */
export type CommittedChange = Pick<ProjectedEvent, 'entity' | 'entityId' | 'incidentId' | 'type' | 'data' | 'actor'> & {
  /** Its seq in event_log. */
  position: number;
  occurredAt: Date;
  /** The incident's board row (incident events), as `select *` returns it. */
  incident?: Record<string, unknown>;
  /** The unit's board row (unit events). */
  unit?: Record<string, unknown>;
};

/** What a batch comes to before its board rows are folded. */
function batchResult(applied: number, duplicates: number, lastSeq: number, lastPosition: LogPosition): AppliedBatch {
  return { applied, duplicates, lastSeq, lastPosition, incidentsWritten: 0, unitsWritten: 0, changes: [] };
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
// The live batch's upserts also hand back the rows as stored, typed as any `select *` of them is.
const UPSERT_INCIDENTS_RETURNING = `${UPSERT_INCIDENTS} returning *`;
const UPSERT_UNITS_RETURNING = `${UPSERT_UNITS} returning *`;

async function loadRows<Row>(tx: Db | Tx, table: BoardTable, ids: string[]): Promise<Map<string, Row>> {
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

/** Statements the caller wants in the same round trips as the batch's own (the checkpoint fence and write). */
export interface Alongside {
  /** Sent with the batch's reads; awaited (and so checked) before anything is written. */
  reads?: () => Promise<unknown>;
  /** Sent with the batch's writes, once the batch is folded and its last seq and position are known. */
  writes?: (result: AppliedBatch) => Promise<unknown>;
  /** Called in the same turn as the writes are sent, before them: throwing stops the batch before it writes anything. */
  beforeWrites?: () => void;
}

/** Statements sent together and awaited in order: one round trip, and a failure still stops at its own step. */
async function inOrder(steps: Array<[Promise<unknown> | undefined, (() => unknown) | undefined]>): Promise<void> {
  // Every one gets a handler now, so one that fails while an earlier one is awaited is not an unhandled rejection;
  // awaiting it below still throws.
  for (const [promise] of steps) promise?.catch(() => {});
  for (const [promise, after] of steps) {
    await promise;
    await after?.();
  }
}

/**
 * Applies events (in log order) to event_log, incident_board and unit_board inside the caller's transaction.
 * `afterSeq` is the seq of the last event already applied; new events continue from it. Rows are folded in
 * memory and written once per id, so a batch costs a handful of statements whatever its size, sent in two round
 * trips: the reads (with the caller's fence), then the writes (with the caller's checkpoint).
 */
export async function applyBatch(
  tx: Tx,
  events: readonly RecordedEvent[],
  afterSeq: number,
  options: { fault?: FaultHook; alongside?: Alongside; memory?: BoardMemory } = {},
): Promise<AppliedBatch> {
  const last = events.at(-1);
  if (!last) throw new Error('applyBatch needs at least one event');
  const { fault, alongside, memory } = options;
  if (memory) return applyRemembered(tx, events, afterSeq, memory, alongside);

  // The checkpoint already guarantees exactly-once; this catches a store that redelivers, or a checkpoint
  // restored from an older backup than the tables. The boards are read for every aggregate of the batch at the
  // same time (a redelivered event's aggregate is read for nothing, which is rare).
  const ids = [...new Set(events.map((e) => e.id))];
  const aggregates = { incident: new Set<string>(), unit: new Set<string>() };
  for (const event of events) {
    const { entity, entityId } = entityOf(event.streamId);
    if (entity === 'incident' || entity === 'unit') aggregates[entity].add(entityId);
  }
  const fence = alongside?.reads?.();
  const knownRead = query<Array<{ id: string; seq: string }>>(
    tx,
    'select event_id::text as id, seq::text as seq from event_log where event_id = any($1::uuid[])',
    [ids],
  );
  const incidentsRead = loadRows<IncidentBoardRow>(tx, 'incident_board', [...aggregates.incident]);
  const unitsRead = loadRows<UnitBoardRow>(tx, 'unit_board', [...aggregates.unit]);
  await inOrder([[fence, undefined], [knownRead, undefined], [incidentsRead, undefined], [unitsRead, undefined]]);
  const [known, incidents, units] = await Promise.all([knownRead, incidentsRead, unitsRead]);
  const skip = new Set(known.map((k) => k.id));

  const fresh: ProjectedEvent[] = [];
  // Numbering goes on after the redelivered events, not after the stale checkpoint, so seq stays unique.
  let seq = known.reduce((max, k) => Math.max(max, Number(k.seq)), afterSeq);
  for (const event of events) {
    if (skip.has(event.id)) continue;
    skip.add(event.id);
    fresh.push(toProjected(event, ++seq));
  }
  const result = batchResult(fresh.length, events.length - fresh.length, seq, last.position);
  if (fresh.length === 0) {
    await alongside?.writes?.(result);
    return result;
  }

  const stored = (table: BoardTable, id: string) => (table === 'incident_board' ? incidents.get(id) : units.get(id));
  return foldAndWrite(tx, fresh, stored, result, fault, alongside);
}

/**
 * The live projector's batch when it remembers every board row the batch folds into (or the batch creates them):
 * nothing to read, so the batch's statements, the caller's and its COMMIT leave in one round trip. No "already
 * applied?" look-up either: a redelivered event fails the batch on event_log's unique event_id, and the caller
 * applies it again the careful way (applyBatch without memory).
 */
async function applyRemembered(tx: Tx, events: readonly RecordedEvent[], afterSeq: number, memory: BoardMemory, alongside: Alongside | undefined): Promise<AppliedBatch> {
  let seq = afterSeq;
  const fresh = events.map((event) => toProjected(event, ++seq));
  const result = batchResult(fresh.length, 0, seq, events.at(-1)!.position);
  const fence = alongside?.reads?.();
  fence?.catch(() => {});
  await foldAndWrite(tx, fresh, (table, id) => memory.get(table, id), result, undefined, alongside);
  await fence;
  return result;
}

/** Folds the new events into their board rows and writes them with the caller's statements, in one round trip. */
async function foldAndWrite(
  tx: Tx,
  fresh: ProjectedEvent[],
  stored: (table: BoardTable, id: string) => unknown,
  result: AppliedBatch,
  fault: FaultHook | undefined,
  alongside: Alongside | undefined,
): Promise<AppliedBatch> {
  const touched = emptyTouched();
  for (const [index, e] of fresh.entries()) {
    if (fault) await fault({ stage: 'event', index, event: e });
    foldEvent(e, touched, stored);
  }
  result.incidentsWritten = touched.incident_board.size;
  result.unitsWritten = touched.unit_board.size;
  result.rows = touched;

  alongside?.beforeWrites?.();
  const logWrite = query(tx, INSERT_EVENT_LOG, [JSON.stringify(fresh.map(eventLogRow))]);
  const incidentsWrite =
    touched.incident_board.size > 0 ? query<Array<Record<string, unknown>>>(tx, UPSERT_INCIDENTS_RETURNING, [JSON.stringify([...touched.incident_board.values()])]) : undefined;
  const unitsWrite =
    touched.unit_board.size > 0 ? query<Array<Record<string, unknown>>>(tx, UPSERT_UNITS_RETURNING, [JSON.stringify([...touched.unit_board.values()])]) : undefined;
  const callerWrites = alongside?.writes?.(result);
  await inOrder([
    [logWrite, fault && (() => fault({ stage: 'event_log' }))],
    [incidentsWrite, fault && (() => fault({ stage: 'incident_board' }))],
    [unitsWrite, fault && (() => fault({ stage: 'unit_board' }))],
    [callerWrites, undefined],
  ]);
  const boards = {
    incident: new Map((incidentsWrite ? await incidentsWrite : []).map((r) => [String(r.id), r])),
    unit: new Map((unitsWrite ? await unitsWrite : []).map((r) => [String(r.id), r])),
  };
  result.changes = fresh.map((e) => {
    const row = e.entity === 'incident' || e.entity === 'unit' ? boards[e.entity].get(e.entityId) : undefined;
    return {
      position: e.seq,
      entity: e.entity,
      entityId: e.entityId,
      incidentId: e.incidentId,
      type: e.type,
      data: e.data,
      actor: e.actor,
      occurredAt: new Date(e.occurredAt),
      ...(row && { [e.entity]: row }),
    };
  });
  return result;
}

/**
 * The board rows the live projector has committed, so the next batch folds without reading them back: it is their
 * only writer while it holds the projection's lock, and it forgets them all whenever it may not have been (it takes
 * the lock again, steps aside for a rebuild, or a batch fails). Least recently used rows are let go beyond `limit`;
 * a batch that needs one of them reads it as before.
 */
export class BoardMemory {
  private readonly rows = { incident_board: new Map<string, unknown>(), unit_board: new Map<string, unknown>() };

  constructor(readonly limit = 20_000) {}

  get(table: BoardTable, id: string): unknown {
    return this.rows[table].get(id);
  }

  /** Whether a batch can be folded from memory alone: each aggregate's first event in it is remembered or creates it. */
  covers(events: readonly RecordedEvent[]): boolean {
    const seen = new Set<string>();
    for (const event of events) {
      if (seen.has(event.streamId)) continue;
      seen.add(event.streamId);
      const table = TABLE_OF.get(entityOf(event.streamId).entity);
      if (!table) continue;
      if (event.revision !== 0n && !this.rows[table].has(entityOf(event.streamId).entityId)) return false;
    }
    return true;
  }

  /** Takes in a committed batch's rows, most recent last, and lets go of the oldest beyond the limit. */
  remember(rows: Touched | undefined): void {
    if (!rows) return;
    for (const table of ['incident_board', 'unit_board'] as const) {
      const mine = this.rows[table];
      for (const [id, row] of rows[table]) {
        mine.delete(id);
        mine.set(id, row);
      }
      for (const [oldest] of mine) {
        if (mine.size <= this.limit) break;
        mine.delete(oldest);
      }
    }
  }

  forget(): void {
    this.rows.incident_board.clear();
    this.rows.unit_board.clear();
  }

  get size(): number {
    return this.rows.incident_board.size + this.rows.unit_board.size;
  }
}

type BoardTable = 'incident_board' | 'unit_board';
/** The board rows a batch has changed so far, by table and id, as they now stand. */
type Touched = { incident_board: Map<string, IncidentBoardRow>; unit_board: Map<string, UnitBoardRow> };

function emptyTouched(): Touched {
  return { incident_board: new Map(), unit_board: new Map() };
}

/**
 * Folds one event into the board row it changes. A row the batch has not touched yet comes from `stored`
 * (the tables for a live batch, the rebuild's memory for a rebuild); undefined means there is none yet.
 */
function foldEvent(e: ProjectedEvent, touched: Touched, stored: (table: BoardTable, id: string) => unknown): void {
  if (e.entity === 'incident') {
    const row = foldIncident(touched.incident_board.get(e.entityId) ?? (stored('incident_board', e.entityId) as IncidentBoardRow | undefined), e);
    if (row) touched.incident_board.set(e.entityId, row);
  } else if (e.entity === 'unit') {
    const row = foldUnit(touched.unit_board.get(e.entityId) ?? (stored('unit_board', e.entityId) as UnitBoardRow | undefined), e);
    if (row) touched.unit_board.set(e.entityId, row);
  }
}

/** Empties the read models; the caller resets the checkpoint in the same transaction. */
export async function truncateReadModels(tx: Tx): Promise<void> {
  await query(tx, `truncate ${READ_MODEL_TABLES.join(', ')}`);
}

/**
 * The rows a rebuild has written, kept in memory so the next batch folds without reading them back; least
 * recently used ones are let go beyond `limit` and read back from the tables if an event needs them again.
 * A rebuild starts from empty tables and is their only writer, so a row it neither holds nor let go of does
 * not exist.
 */
export class RebuildRows {
  private readonly rows = { incident_board: new Map<string, unknown>(), unit_board: new Map<string, unknown>() };
  private readonly released = { incident_board: new Set<string>(), unit_board: new Set<string>() };

  constructor(readonly limit = 50_000) {}

  /** A row let go of: it must be read back before an event folds into it. */
  isReleased(table: BoardTable, id: string): boolean {
    return this.released[table].has(id);
  }

  get size(): number {
    return this.rows.incident_board.size + this.rows.unit_board.size;
  }

  get<Row>(table: BoardTable, id: string): Row | undefined {
    const row = this.rows[table].get(id) as Row | undefined;
    if (row !== undefined) {
      this.rows[table].delete(id);
      this.rows[table].set(id, row);
    }
    return row;
  }

  set(table: BoardTable, id: string, row: unknown): void {
    const rows = this.rows[table];
    rows.delete(id);
    rows.set(id, row);
    this.released[table].delete(id);
  }

  /**
   * Lets go of the least recently used rows beyond the limit. Only between batches: a batch's rows, read back or
   * in memory, must all stay until it is folded.
   */
  trim(): void {
    for (const table of ['incident_board', 'unit_board'] as const) {
      const rows = this.rows[table];
      for (const [oldest] of rows) {
        if (rows.size <= this.limit) break;
        rows.delete(oldest);
        this.released[table].add(oldest);
      }
    }
  }
}

/** A rebuild batch folded in memory, ready to be written. */
export interface PreparedBatch {
  result: AppliedBatch;
  /** event_log's rows as one JSON array. */
  eventLog: string;
  incidents: string | undefined;
  units: string | undefined;
}

/**
 * The rebuild's half of applyBatch that needs no database: numbers and folds the batch against `rows`. Rows
 * named in `reload` (let go of earlier) must have been read back by the caller first. No "already applied?"
 * look-up: the tables were emptied by this rebuild, and event_log's unique event_id refuses a redelivery.
 */
export function prepareRebuildBatch(
  events: readonly RecordedEvent[],
  afterSeq: number,
  rows: RebuildRows,
): PreparedBatch {
  const last = events.at(-1);
  if (!last) throw new Error('prepareRebuildBatch needs at least one event');
  let seq = afterSeq;
  const fresh = events.map((event) => toProjected(event, ++seq));
  const touched = emptyTouched();
  for (const e of fresh) foldEvent(e, touched, (table, id) => rows.get(table, id));
  for (const table of ['incident_board', 'unit_board'] as const) for (const [id, row] of touched[table]) rows.set(table, id, row);
  rows.trim();
  return {
    result: { ...batchResult(fresh.length, 0, seq, last.position), incidentsWritten: touched.incident_board.size, unitsWritten: touched.unit_board.size },
    eventLog: JSON.stringify(fresh.map(eventLogRow)),
    incidents: touched.incident_board.size > 0 ? JSON.stringify([...touched.incident_board.values()]) : undefined,
    units: touched.unit_board.size > 0 ? JSON.stringify([...touched.unit_board.values()]) : undefined,
  };
}

const TABLE_OF = new Map<string, BoardTable>([
  ['incident', 'incident_board'],
  ['unit', 'unit_board'],
]);

/** Rows of these events' aggregates that the rebuild let go of and must read back before folding; none: undefined. */
export function rowsToReload(rows: RebuildRows, events: readonly RecordedEvent[]): Record<BoardTable, string[]> | undefined {
  const wanted: Record<BoardTable, Set<string>> = { incident_board: new Set(), unit_board: new Set() };
  let any = false;
  for (const e of events) {
    const { entity, entityId } = entityOf(e.streamId);
    const table = TABLE_OF.get(entity);
    if (table && rows.isReleased(table, entityId)) {
      wanted[table].add(entityId);
      any = true;
    }
  }
  return any ? { incident_board: [...wanted.incident_board], unit_board: [...wanted.unit_board] } : undefined;
}

/** Reads them back (after the batches that wrote them have committed). */
export async function reloadRebuildRows(db: Db, rows: RebuildRows, wanted: Record<BoardTable, string[]>): Promise<void> {
  for (const table of ['incident_board', 'unit_board'] as const) {
    if (wanted[table].length === 0) continue;
    for (const [id, row] of await loadRows(db, table, wanted[table])) rows.set(table, id, row);
  }
}

/** The rebuild's other half: writes a prepared batch in the caller's transaction. */
export async function writePreparedBatch(tx: Tx, batch: PreparedBatch, options: { boardsAfter?: Promise<unknown> } = {}): Promise<AppliedBatch> {
  await query(tx, INSERT_EVENT_LOG, [batch.eventLog]);
  // The boards only once `boardsAfter` has settled (the batch before, committing beside this one): its rows of a board
  // are locked until then, and waiting on them here while it waits on us would be a deadlock no database sees.
  await options.boardsAfter;
  if (batch.incidents !== undefined) await query(tx, UPSERT_INCIDENTS, [batch.incidents]);
  if (batch.units !== undefined) await query(tx, UPSERT_UNITS, [batch.units]);
  return batch.result;
}

/**
 * Drops the read models' secondary indexes for a rebuild, keeping how to build them again (from the catalog, so
 * they are always the migrations' own) in rebuild_deferred_indexes in the caller's transaction. That includes
 * event_log's unique event_id: its random ids made every row of the load a scattered B-tree insert, and a rebuild
 * cannot meet an event twice (it reads the log once, in order, as its only writer); the constraint is added back,
 * and so checked, at the end. Primary keys stay: the boards' upserts need them.
 */
export async function deferReadModelIndexes(tx: Tx): Promise<void> {
  await query(
    tx,
    `insert into rebuild_deferred_indexes (name, definition)
     select i.indexname, case when c.conname is not null
                              then format('alter table %I add constraint %I %s', i.tablename, c.conname, pg_get_constraintdef(c.oid))
                              else i.indexdef end
       from pg_indexes i
       join pg_index x on x.indexrelid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
       left join pg_constraint c on c.conindid = x.indexrelid and c.contype = 'u'
      where i.schemaname = current_schema() and i.tablename = any($1::text[])
        and not x.indisprimary and (not x.indisunique or c.conname is not null)
     on conflict (name) do nothing`,
    [READ_MODEL_TABLES],
  );
  const deferred = await query<Array<{ name: string; definition: string }>>(tx, 'select name, definition from rebuild_deferred_indexes order by name');
  for (const { name, definition } of deferred) {
    const constraint = /^alter table (\S+) add constraint /i.exec(definition);
    if (constraint) await tx.unsafe(`alter table ${constraint[1]} drop constraint if exists ${quoteIdent(name)}`);
    else await tx.unsafe(`drop index if exists ${quoteIdent(name)}`);
  }
}

/**
 * Builds the indexes a rebuild deferred (at its end, or after one died midway); nothing to do is one query. Two at
 * a time, each in its own transaction with its row of rebuild_deferred_indexes, with room to sort in memory: a
 * million events' indexes were a quarter of a rebuild's time, built one by one in temporary files.
 */
export async function restoreReadModelIndexes(db: Db): Promise<number> {
  const deferred = await query<Array<{ name: string; definition: string }>>(db, 'select name, definition from rebuild_deferred_indexes order by name');
  if (deferred.length === 0) return 0;
  const queue = [...deferred];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { name, definition } = next;
      await db.begin(async (tx) => {
        await tx.unsafe(`set local maintenance_work_mem = '256MB'`);
        const [found] = await query<Array<{ present: boolean }>>(tx, 'select to_regclass($1) is not null as present', [quoteIdent(name)]);
        if (!found?.present) await tx.unsafe(definition);
        await query(tx, 'delete from rebuild_deferred_indexes where name = $1', [name]);
      });
    }
  };
  await Promise.all([worker(), worker()]);
  return deferred.length;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
