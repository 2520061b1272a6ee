// Time travel: any incident, or the whole city, as it stood at a past moment.
//
// "At T" means after every event of the stream up to the last one whose business time (metadata.occurredAt)
// is at or before T, taking along each stream the running maximum of those times, so that a stream whose clock
// stepped back (two commands racing) still has one well-defined prefix for every T.
//
// The time-travel read model keeps each aggregate's view after each of its events with the interval it was current
// for: time_travel_states holds the closed intervals, which never change again, and time_travel_latest each stream's
// newest view, current until its next event (migration 00013). "The city at T" is one GiST lookup on the closed
// intervals that contain T, beside the newest views that began by T, whatever the length of the log.
import type { Sql } from 'postgres';
import {
  incidentView,
  unitView,
  type IncidentState,
  type IncidentView,
  type UnitState,
  type UnitView,
} from '../../domain/index.ts';
import type { EventStore, LogPosition, RecordedEvent, Subscription } from '../../eventstore/port.ts';
import { incidents, units } from '../commands/aggregates.ts';
import { toDomainEvent } from '../commands/commandHandler.ts';
import { inTransactionConnection, TransactionConnection } from '../../projections/transactionConnection.ts';
import { incidentIdOfStream, unsealReported, type PersonalDataVault } from './personalData.ts';

export const TIME_TRAVEL_PROJECTION = 'time_travel';
const STREAM_PREFIXES = ['incident-', 'unit-'];
const LOCK = 7403871200196534n;

/** The business time an event counts at. */
export function eventTime(event: RecordedEvent): number {
  const claimed = typeof event.metadata?.occurredAt === 'string' ? Date.parse(event.metadata.occurredAt) : NaN;
  return Number.isNaN(claimed) ? event.recordedAt.getTime() : claimed;
}

/** The stream's events that had happened at `at` (see the running-maximum rule above). */
export function eventsUpTo(events: readonly RecordedEvent[], at: number): RecordedEvent[] {
  let clock = -Infinity;
  const out: RecordedEvent[] = [];
  for (const event of events) {
    clock = Math.max(clock, eventTime(event));
    if (clock > at) break;
    out.push(event);
  }
  return out;
}

type Entity = 'incident' | 'unit';

function entityOf(streamId: string): { entity: Entity; id: string } | undefined {
  const incidentId = incidentIdOfStream(streamId);
  if (incidentId !== undefined) return { entity: 'incident', id: incidentId };
  if (streamId.startsWith('unit-')) return { entity: 'unit', id: streamId.slice('unit-'.length) };
  return undefined;
}

/** Folds events of one stream from scratch into its view (null before the aggregate exists). */
export function foldView(entity: Entity, events: readonly RecordedEvent[]): IncidentView | UnitView | null {
  if (entity === 'incident') {
    let state = incidents.decider.initialState();
    for (const e of events) state = incidents.decider.evolve(state, toDomainEvent(e) as never);
    return incidentView(state);
  }
  let state = units.decider.initialState();
  for (const e of events) state = units.decider.evolve(state, toDomainEvent(e) as never);
  return unitView(state);
}

/** Events per batch of the time-travel projector. */
const BATCH_SIZE = 1000;
/**
 * The least time between two of its batches once it has caught up. Nobody watches this model live (an auditor asks
 * for a moment in the past), so under load it takes the events of a tenth of a second at once: fewer transactions
 * and round trips beside the commands and the live feed, which are waited on.
 */
const PACE_MS = 100;

interface Cached {
  entity: Entity;
  revision: bigint;
  state: IncidentState | UnitState;
  clock: number;
}

/**
 * Keeps time_travel_states and time_travel_latest. Every API instance may run one: a batch is written under a
 * transaction-scoped advisory lock and rows already present are skipped, so two instances never write a row twice;
 * the checkpoint (projection_checkpoints 'time_travel') only saves work on restart.
 */
export class TimeTravelProjector {
  private subscription: Subscription | undefined;
  private readonly cache = new Map<string, Cached>();
  private lastPosition: LogPosition | undefined;
  private failure: unknown;
  private stopped = false;
  private failures = 0;
  private restart: NodeJS.Timeout | undefined;
  private pacing: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private readonly transactions: TransactionConnection;

  constructor(
    private readonly store: EventStore,
    private readonly sql: Sql,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.transactions = new TransactionConnection(sql);
  }

  async start(): Promise<void> {
    const [row] = await this.sql<{ position: string }[]>`select position from projection_checkpoints where projection = ${TIME_TRAVEL_PROJECTION}`;
    const from = row?.position;
    const subscription = this.store.subscribe({ ...(from && from !== 'start' && { from }), streamPrefixes: STREAM_PREFIXES, batchSize: BATCH_SIZE }, async (batch) => {
      await this.apply(batch);
      if (batch.length < BATCH_SIZE) await this.pace();
    });
    this.subscription = subscription;
    subscription.done.catch((error) => this.restartAfter(error));
  }

  /**
   * A lost connection or a server restart must not end time travel for good: start again from the checkpoint,
   * waiting longer while it keeps failing. What a failed batch would have written is written then.
   */
  private restartAfter(error: unknown): void {
    this.failure = error;
    this.onError(error);
    this.cache.clear();
    if (this.stopped) return;
    this.failures += 1;
    this.restart = setTimeout(() => {
      this.restart = undefined;
      if (!this.stopped) this.start().catch((startError: unknown) => this.restartAfter(startError));
    }, Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 6)));
    this.restart.unref();
  }

  /** Waits PACE_MS before the next read (stop() ends the wait). */
  private pace(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(this.pacing?.timer);
        this.pacing = undefined;
        resolve();
      };
      this.pacing = { timer: setTimeout(done, PACE_MS), resolve: done };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pacing?.resolve();
    if (this.restart) clearTimeout(this.restart);
    await this.subscription?.close();
    await this.transactions.close();
  }

  /** Where the projection stands (the last position it wrote), for callers that need it caught up. */
  get position(): LogPosition | undefined {
    return this.lastPosition;
  }

  get failed(): unknown {
    return this.failure;
  }

  private async stateBefore(streamId: string, entity: Entity, revision: bigint): Promise<Cached> {
    const cached = this.cache.get(streamId);
    if (cached && cached.revision === revision - 1n) return cached;
    // Cold start or a gap: fold the stream up to the event before this one.
    const events = revision > 0n ? await this.store.readStream(streamId, { maxCount: Number(revision) }) : [];
    const aggregate = entity === 'incident' ? incidents : units;
    let state = aggregate.decider.initialState() as IncidentState | UnitState;
    let clock = -Infinity;
    for (const e of events) {
      state = (aggregate.decider.evolve as (s: unknown, ev: unknown) => IncidentState | UnitState)(state, toDomainEvent(e));
      clock = Math.max(clock, eventTime(e));
    }
    return { entity, revision: revision - 1n, state, clock };
  }

  private async apply(batch: RecordedEvent[]): Promise<void> {
    const rows: Array<Record<string, unknown>> = [];
    const staged = new Map<string, Cached>();
    for (const event of batch) {
      const which = entityOf(event.streamId);
      if (!which) continue;
      const before = staged.get(event.streamId) ?? (await this.stateBefore(event.streamId, which.entity, event.revision));
      const aggregate = which.entity === 'incident' ? incidents : units;
      const state = (aggregate.decider.evolve as (s: unknown, ev: unknown) => IncidentState | UnitState)(before.state, toDomainEvent(event));
      const clock = Math.max(before.clock, eventTime(event));
      const view = which.entity === 'incident' ? incidentView(state as IncidentState) : unitView(state as UnitState);
      staged.set(event.streamId, { entity: which.entity, revision: event.revision, state, clock });
      rows.push({
        stream_id: event.streamId,
        revision: event.revision.toString(),
        entity: which.entity,
        entity_id: which.id,
        valid_from: new Date(clock).toISOString(),
        view,
      });
    }
    // A row followed by its stream's next one in this batch is closed as it is written, straight into the history; the
    // last one of each stream becomes its newest state.
    const nextStart = new Map<string, string>();
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i]!;
      const stream = row.stream_id as string;
      row.valid_to = nextStart.get(stream) ?? null;
      nextStart.set(stream, row.valid_from as string);
    }
    const last = batch.at(-1);
    // One round trip: the statements go out together on a connection of our own, COMMIT behind them (a statement
    // that fails aborts the transaction, and PostgreSQL answers that COMMIT with a rollback). Derived data, like the
    // read models: its commit does not wait for the disk.
    await inTransactionConnection(this.transactions, async (conn, session) => {
      try {
        const send = (text: string, params: unknown[] = []) => conn.unsafe(text, params as never[], { prepare: true }).execute();
        const statements = [
          send('begin'),
          send('set local synchronous_commit = off'),
          // A primary-key probe per row, whatever the statistics say: on a young, fast-growing table (a new database,
          // before autovacuum has analysed it) the planner took a look-up by the batch for a sequential scan of the
          // table (23 ms at 10k rows in the live bench, growing), and this transaction holds back every event
          // committed while it is open from every reader of the log (see eventstore/postgres.ts, readAll).
          send('set local enable_seqscan = off'),
          send('select pg_advisory_xact_lock($1::bigint)', [LOCK.toString()]),
        ];
        if (rows.length > 0) {
          // One statement, all three parts reading the tables as they were before it (jsonb_to_recordset parses the
          // batch once; json_to_recordset lexed it and then parsed each view again into jsonb, 6-7 against 4 ms):
          // - a stream's stored newest state whose next event is in the batch is closed at that event's start and
          //   goes to the history (found by the batch: a primary-key look-up a row, never a scan);
          // - the batch's rows that their stream's next row closes go to the history;
          // - each stream's last row in the batch becomes its newest state, unless a later one is already stored.
          // Redelivered rows (a restart from an older checkpoint) are skipped by the history's primary key; a row the
          // first two parts would both write is written once (ON CONFLICT also sees the statement's own rows).
          statements.push(
            send(
              `with input as (select * from jsonb_to_recordset($1::text::jsonb)
                                as t(stream_id text, revision bigint, entity text, entity_id text, valid_from timestamptz,
                                     valid_to timestamptz, view jsonb)),
                    closed_newest as (
                      insert into time_travel_states (stream_id, revision, entity, entity_id, valid_from, valid_to, view)
                      select l.stream_id, l.revision, l.entity, l.entity_id, l.valid_from, i.valid_from, l.view
                        from input i join time_travel_latest l on l.stream_id = i.stream_id and l.revision = i.revision - 1
                       order by l.stream_id, l.revision
                      on conflict (stream_id, revision) do nothing),
                    closed_in_batch as (
                      insert into time_travel_states (stream_id, revision, entity, entity_id, valid_from, valid_to, view)
                      select stream_id, revision, entity, entity_id, valid_from, valid_to, view from input
                       where valid_to is not null order by stream_id, revision
                      on conflict (stream_id, revision) do nothing)
               insert into time_travel_latest as l (stream_id, revision, entity, entity_id, valid_from, view)
               select stream_id, revision, entity, entity_id, valid_from, view from input where valid_to is null order by stream_id
               on conflict (stream_id) do update
                 set revision = excluded.revision, entity = excluded.entity, entity_id = excluded.entity_id,
                     valid_from = excluded.valid_from, view = excluded.view
               where excluded.revision > l.revision`,
              [JSON.stringify(rows)],
            ),
          );
        }
        if (last) {
          // Each stream keeps its own clock: the newest state of the batch is its greatest start, not its last row's.
          const through = rows.reduce<string | null>((max, r) => (max === null || (r.valid_from as string) > max ? (r.valid_from as string) : max), null);
          statements.push(
            send(
              `insert into projection_checkpoints (projection, position, seq, through, updated_at)
               values ($1, $2, $3, $4::timestamptz, now())
               on conflict (projection) do update set position = excluded.position, seq = projection_checkpoints.seq + excluded.seq,
                 through = greatest(projection_checkpoints.through, excluded.through), updated_at = now()`,
              [TIME_TRAVEL_PROJECTION, last.position, String(batch.length), through],
            ),
          );
        }
        statements.push(send('commit'));
        for (const statement of statements) statement.catch(() => {});
        for (const statement of statements) await statement;
      } catch (error) {
        await session.rollbackAfter(error);
        throw error;
      }
    });
    this.failures = 0;
    for (const [stream, cached] of staged) this.cache.set(stream, cached);
    // Unbounded growth would follow the number of streams; a cold miss only costs one stream read.
    if (this.cache.size > 200_000) this.cache.clear();
    if (last) this.lastPosition = last.position;
  }
}

/** Reporter fields of a stored (sealed) incident view opened with its key, or dropped when erased. */
async function openView(vault: PersonalDataVault, view: IncidentView): Promise<IncidentView> {
  if (!view.reporter) return view;
  const key = (await vault.keyFor(view.id))?.key ?? null;
  return unsealReported(view, key, view.id) as IncidentView;
}

export interface StateAt {
  view: IncidentView | null;
  /** The revision of the last event folded in; -1 before the first. */
  revision: number;
  source: 'snapshot' | 'stream';
}

/**
 * One incident at `at`. A snapshot row answers when a later revision has already been projected (so the row's
 * interval is closed and final); otherwise the stream is folded — a single stream, read by its primary key.
 */
export async function incidentStateAt(sql: Sql, store: EventStore, vault: PersonalDataVault, incidentId: string, at: Date): Promise<StateAt> {
  const streamId = `incident-${incidentId}`;
  const [row] = await sql<{ revision: string; view: IncidentView | null }[]>`
    select revision::text as revision, view from time_travel_states
     where stream_id = ${streamId} and valid_from <= ${at} and valid_to > ${at}
     order by time_travel_states.valid_from desc, time_travel_states.revision desc limit 1`;
  if (row) return { view: row.view ? await openView(vault, row.view) : null, revision: Number(row.revision), source: 'snapshot' };
  const events = eventsUpTo(await store.readStream(streamId), at.getTime());
  return { view: foldView('incident', events) as IncidentView | null, revision: events.length - 1, source: 'stream' };
}

/**
 * Everything as it stood at `at`, from the read model, as the JSON text of `{"incidents": [...], "units": [...]}`.
 * PostgreSQL builds the arrays (tens of thousands of views at a million events), so they are never parsed and
 * re-serialised here. Personal data is left out of the city picture.
 */
export async function cityAtJson(sql: Sql, at: Date): Promise<string> {
  const [row] = await sql.begin(async (tx) => {
    // The ordered aggregate sorts every view of the moment (about 18 MB at a million events): in memory, not in
    // temporary files. Views without a reporter are taken as they are rather than copied to drop nothing.
    await tx`set local work_mem = '64MB'`;
    // Each view's own JSON text, joined with commas (the brackets are added here, not copied around in SQL): json_agg
    // gives the same JSON but took about a fifth longer (0.68 against 0.55 s for 33,000 views on a slow afternoon).
    return tx<{ incidents: string; units: string }[]>`
      select coalesce(string_agg((case when view ? 'reporter' then view - 'reporter' else view end)::text, ','
                                 order by entity_id) filter (where entity = 'incident'), '') as incidents,
             coalesce(string_agg(view::text, ',' order by entity_id) filter (where entity = 'unit'), '') as units
        from (select entity, entity_id, view from time_travel_states where during @> ${at}::timestamptz
              union all
              select entity, entity_id, view from time_travel_latest where valid_from <= ${at}::timestamptz) as moment
       where view is not null`;
  });
  return `{"incidents":[${row?.incidents ?? ''}],"units":[${row?.units ?? ''}]}`;
}

/**
 * How far the time-travel model has got: the business time of the newest state it holds, as its projector records it
 * with each batch (read models built before that was recorded are measured once, the slow way).
 */
export async function projectedThrough(sql: Sql): Promise<string | null> {
  const [checkpoint] = await sql<{ through: Date | null }[]>`
    select through from projection_checkpoints where projection = ${TIME_TRAVEL_PROJECTION}`;
  if (checkpoint?.through) return checkpoint.through.toISOString();
  const [row] = await sql<{ at: Date | null }[]>`select max(valid_from) as at from time_travel_latest`;
  return row?.at ? row.at.toISOString() : null;
}
