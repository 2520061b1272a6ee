import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import {
  ConcurrencyError,
  DuplicateEventError,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from './port.ts';
import { Coalescer } from './coalescer.ts';
import { GROUP_APPEND, groupParameters, groupResults, type GroupedAppend } from './groupCommit.ts';
import { contentHash } from './hashChain.ts';
import { decodePair, encodePair } from './position.ts';
import { PollingSubscription } from './pollingSubscription.ts';

// postgres.js instances differ in their custom type map; the store only uses what every instance has.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sql = postgres.Sql<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TransactionSql = postgres.TransactionSql<any>;
type Queryable = Sql | TransactionSql;

export const EVENTS_CHANNEL = 'cbd_events';
/** The least time between two NOTIFYs from one store: what another process's subscriptions may wait at most extra. */
const NOTIFY_GAP_MS = 5;

export interface PostgresEventStoreOptions {
  /** Shown in logs and test names: 'postgres' or 'embedded'. */
  name?: string;
  /** The safety net: how long a caught-up subscription waits before looking again. */
  pollIntervalMs?: number;
  /**
   * LISTEN on EVENTS_CHANNEL and NOTIFY it after appends, so other processes' subscriptions wake at once.
   * Useless on embedded PGlite, where a NOTIFY never reaches a LISTEN across the socket; when not given,
   * it is on unless the server reports itself as PGlite.
   */
  listen?: boolean;
  /** Events per subscription batch unless the subscriber asks otherwise. */
  batchSize?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface AppendRow {
  version: string | bigint | null;
  position: string | null;
}

interface LookRow {
  current: string | bigint | null;
  found: string | number;
  same: string | number;
}

interface EventRow {
  gpos: string | bigint;
  id: string;
  stream: string;
  revision: string | bigint;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  txid: string;
  recorded: Date;
}

/**
 * The application_name of connections that write read models and never append events (the projectors' transaction
 * connections). The log's horizon does not wait for their transactions, and the events table refuses their inserts
 * (migration 00010), so the label cannot hide an append.
 */
export const READ_MODEL_WRITER = 'citybrain-read-models';

/**
 * The log's horizon: the oldest transaction still running that may be appending, else the first one not yet started.
 * Events of transactions below it are all committed (or gone), so reading up to it never passes an event that
 * commits later. Every running transaction counts (pg_snapshot_xmin) except two kinds, found in the server's
 * activity by xid: those of read-model writers (by their label), so the projectors' own batches do not hold back the
 * log that feeds them; and those of backends connected to another database of the same server, which cannot write
 * this one's events, so another application's long transaction does not stall this one's live feed. When the
 * activity is read does not matter: an xid seen on such a backend is never an appender's. An xid not seen at all
 * (a backend that started since) still counts.
 */
export const LOG_HORIZON = `(select coalesce(
    (select min(x) from pg_snapshot_xip(pg_current_snapshot()) x
      where xid(x) not in (select backend_xid from pg_stat_get_activity(null)
                            where backend_xid is not null
                              and (application_name = '${READ_MODEL_WRITER}'
                                   or datid <> (select oid from pg_database where datname = current_database())))),
    pg_snapshot_xmax(pg_current_snapshot())))`;

// Single-word aliases: a caller's postgres.js column transform (e.g. postgres.camel) leaves them alone.
const EVENT_COLUMNS = `global_position as gpos, event_id as id, stream_id as stream, stream_revision as revision,
  type, data, metadata, transaction_id::text as txid, recorded_at as recorded`;

/**
 * The event store on PostgreSQL (or PGlite behind its socket server).
 *
 * Appending is one prepared statement — one round trip, its own implicit transaction — that moves the
 * stream version under optimistic concurrency and inserts the events. Only when it writes nothing (a
 * conflict, or event ids already stored) does a second look decide between an idempotent retry,
 * DuplicateEventError and ConcurrencyError. The global log is ordered by (transaction_id, global_position) and read only below the
 * oldest transaction still running that may be appending (LOG_HORIZON), so an event whose transaction commits late is delivered after, never
 * instead of, the ones that overtook it.
 */
export class PostgresEventStore implements EventStore {
  readonly name: string;
  private readonly pollIntervalMs: number;
  private readonly listenOption: boolean | undefined;
  private notifyDecision: Promise<boolean> | undefined;
  private readonly batchSize: number;
  private readonly subscriptions = new Set<PollingSubscription>();
  private listening: Promise<postgres.ListenMeta | undefined> | undefined;
  private announcing: Promise<void> | undefined;
  private announcePending = false;
  private closed = false;
  /**
   * The payload of this instance's NOTIFYs. Its own appends wake its subscriptions directly, so hearing its own
   * NOTIFY back would only send each of them to read the log again (under load, a read per NOTIFY for nothing).
   */
  private readonly notifier = randomUUID();
  /** Appends of concurrent commands written together (group commit); a batch holds each stream once. */
  private readonly group = new Coalescer<GroupedAppend, AppendResult | undefined>(
    (batch) => this.writeGroup(batch),
    (append) => append.streamId,
  );

  constructor(
    private readonly sql: Sql,
    options: PostgresEventStoreOptions = {},
  ) {
    this.name = options.name ?? 'postgres';
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.listenOption = options.listen;
    this.batchSize = options.batchSize ?? 500;
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    validate(streamId, events, expected);
    if (events.length === 0) return this.checkOnly(this.sql, streamId, expected);
    const grouped: GroupedAppend = {
      streamId,
      expected,
      events: events.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: e.metadata, contentHash: contentHash({ ...e, streamId }) })),
    };
    // Written with whatever else is appending now; an append the group left unwritten (a conflict, or ids already
    // stored) is tried on its own, where the second look tells a retry from a conflict.
    const result = (await this.group.run(grouped)) ?? (await this.appendOn(this.sql, streamId, events, expected, false, grouped.events));
    if (result.written) {
      this.wake();
      this.announce();
    }
    return result;
  }

  /** One batch of the group writer: alone, the single-append statement; together, one statement for all. */
  private async writeGroup(batch: GroupedAppend[]): Promise<Array<AppendResult | undefined>> {
    if (batch.length === 1) {
      const [only] = batch as [GroupedAppend];
      return [await this.appendOn(this.sql, only.streamId, only.events, only.expected, false, only.events)];
    }
    let rows: Array<{ a: number; version: string; position: string | null }>;
    try {
      rows = await this.sql.unsafe(GROUP_APPEND, groupParameters(batch), { prepare: true });
    } catch (error) {
      // One append's stored ids (a retry) fail the whole statement, as would a deadlock with another process's
      // batch; nothing was written, and each append is tried on its own.
      if (isUniqueViolation(error) || isDeadlock(error)) return batch.map(() => undefined);
      throw error;
    }
    return groupResults(batch.length, rows).map((r) =>
      r === undefined ? undefined : { written: true, nextRevision: r.version, ...(r.position !== undefined && { position: r.position }) },
    );
  }

  /**
   * Appends inside a transaction the caller controls (tests use it to hold a transaction open).
   * Subscriptions in this process learn of the events when polling, a NOTIFY, or a call to wake()
   * after the caller commits.
   */
  async appendWithin(
    tx: TransactionSql,
    streamId: string,
    events: EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    this.assertOpen();
    return this.appendOn(tx, streamId, events, expected, true);
  }

  /** Tells this process's subscriptions that new events may have committed. */
  wake(): void {
    for (const subscription of this.subscriptions) subscription.wake();
  }

  async readStream(streamId: string, options: { fromRevision?: bigint; maxCount?: number } = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const from = options.fromRevision ?? 0n;
    const rows = await this.sql<EventRow[]>`
      select ${this.sql.unsafe(EVENT_COLUMNS)} from events
      where stream_id = ${streamId}::text and stream_revision >= ${from.toString()}::bigint
      order by stream_revision
      limit ${limitOf(options.maxCount)}::bigint`;
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const [tx, gpos] = decodePair(options.from, 'PostgreSQL') ?? [0n, 0n];
    const prefixes = options.streamPrefixes;
    if (prefixes && prefixes.length === 0) return [];
    const sql = this.sql;
    // One statement text per prefix count keeps each shape a reusable prepared statement.
    const prefixFilter = prefixes
      ? sql`and (${prefixes.map((p, i) => (i === 0 ? sql`starts_with(stream_id, ${p}::text)` : sql`or starts_with(stream_id, ${p}::text)`))})`
      : sql``;
    const rows = await sql<EventRow[]>`
      select ${sql.unsafe(EVENT_COLUMNS)} from events
      where transaction_id < ${sql.unsafe(LOG_HORIZON)}
        and (transaction_id, global_position) > (${tx.toString()}::xid8, ${gpos.toString()}::bigint)
        ${prefixFilter}
      order by transaction_id, global_position
      limit ${limitOf(options.maxCount)}::bigint`;
    return rows.map(toRecorded);
  }

  subscribe(options: SubscribeOptions, handler: (batch: RecordedEvent[]) => Promise<void>): Subscription {
    this.assertOpen();
    if (options.from !== undefined) decodePair(options.from, 'PostgreSQL');
    const subscription = new PollingSubscription(
      {
        readAll: (o) => this.readAll(o),
        hasHeldBackEvents: () => this.hasHeldBackEvents(),
      },
      {
        ...(options.from !== undefined && { from: options.from }),
        ...(options.streamPrefixes && { streamPrefixes: options.streamPrefixes }),
        batchSize: options.batchSize ?? this.batchSize,
        pollIntervalMs: this.pollIntervalMs,
      },
      handler,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    this.startListening();
    return subscription;
  }

  /** Stops every subscription; the sql instance belongs to the caller and stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    const listening = this.listening;
    this.listening = undefined;
    const meta = await listening?.catch(() => undefined);
    await meta?.unlisten().catch(() => {});
    await this.announcing;
  }

  async hasHeldBackEvents(): Promise<boolean> {
    // The newest visible event's transaction, read from the end of the log-order index, against the horizon. The
    // same answer as "exists an event at or past the horizon", but that form was planned as a sequential scan
    // (PostgreSQL expects a third of the rows past an unknown horizon, so it expects to stop early) and, with no
    // event held back, read the whole log: 100 ms at 1M events, on every poll that found nothing.
    const [row] = await this.sql<{ held: boolean }[]>`
      select coalesce((select max(transaction_id) from events) >= ${this.sql.unsafe(LOG_HORIZON)}, false) as held`;
    return row?.held ?? false;
  }

  private startListening(): void {
    // A failed or lost LISTEN only costs latency: polling still finds every event.
    this.listening ??= this.usesNotify(this.sql)
      .then((on) => (on ? this.sql.listen(EVENTS_CHANNEL, (payload) => {
          if (payload !== this.notifier) this.wake();
        }) : undefined))
      .catch(() => undefined);
  }

  /** `db` runs the one-off probe, so a caller's transaction holding the only connection does not wait on itself. */
  private usesNotify(db: Queryable): Promise<boolean> {
    if (this.listenOption !== undefined) return Promise.resolve(this.listenOption);
    this.notifyDecision ??= db<{ v: string }[]>`select version() as v`.then(
      ([row]) => !/pglite/i.test(row?.v ?? ''),
      () => false,
    );
    return this.notifyDecision;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`event store ${this.name} is closed`);
  }

  private async appendOn(
    db: Queryable,
    streamId: string,
    events: EventToAppend[],
    expected: ExpectedRevision,
    inCallerTransaction = false,
    hashed?: GroupedAppend['events'],
  ): Promise<AppendResult> {
    validate(streamId, events, expected);
    if (events.length === 0) return this.checkOnly(db, streamId, expected);
    // The content hash travels with each event; the events_chain_hash trigger links it to the stream's previous
    // event inside this statement's transaction (migrations/00003_audit).
    const payload = JSON.stringify(
      (hashed ?? events).map((e) => ({
        id: e.id,
        type: e.type,
        data: e.data ?? null,
        metadata: e.metadata,
        contentHash: 'contentHash' in e ? e.contentHash : contentHash({ ...e, streamId }),
      })),
    );
    const params = [streamId, payload, String(events.length), ...(typeof expected === 'bigint' ? [expected.toString()] : [])];
    const text = APPEND[typeof expected === 'bigint' ? 'exact' : expected];
    // A conflict is settled by a second look; should that look find the stream where the caller expected it
    // after all (the writer it waited for rolled back), the write is simply tried again.
    for (let attempt = 1; ; attempt++) {
      let row: AppendRow | undefined;
      try {
        const write = (q: Queryable) => q.unsafe<AppendRow[]>(text, params, { prepare: true });
        // In the caller's transaction a failed statement would abort it all; the savepoint keeps it usable
        // for the second look.
        const rows = inCallerTransaction ? await (db as TransactionSql).savepoint((sp) => write(sp)) : await write(db);
        row = rows[0];
      } catch (error) {
        // The event ids are already stored (a retry, or ids reused for other work), or a concurrent append
        // got there first; the statement wrote nothing and the second look tells which.
        if (!isUniqueViolation(error)) throw error;
      }
      if (row?.version != null) {
        // Delivered when the caller commits; NOTIFY's commit-time serialisation is the caller's to pay here.
        if (inCallerTransaction && (await this.usesNotify(db))) await db`select pg_notify(${EVENTS_CHANNEL}::text, '')`;
        return { written: true, nextRevision: BigInt(row.version), ...(row.position && { position: row.position }) };
      }
      const [seen] = await db.unsafe<LookRow[]>(LOOK_AGAIN, [streamId, payload], { prepare: true });
      const current = seen?.current == null ? undefined : BigInt(seen.current);
      if (seen && Number(seen.found) > 0) {
        // Idempotency wins over the expected revision: a retry whose events are all stored, as they were
        // sent, is answered with the stream as it is now, whatever revision the retry expected.
        if (Number(seen.same) === events.length && current !== undefined) return { written: false, nextRevision: current };
        throw new DuplicateEventError(
          `event ids ${events.map((e) => e.id).join(', ')} were already used for other events or another stream than ${streamId}`,
        );
      }
      if (!satisfies(expected, current) || attempt >= 3) throw new ConcurrencyError(streamId, expected, current ?? 'no_stream');
    }
  }

  private async checkOnly(db: Queryable, streamId: string, expected: ExpectedRevision): Promise<AppendResult> {
    const [row] = await db<{ version: string | bigint | null }[]>`
      select (select version from streams where stream_id = ${streamId}::text) as version`;
    const current = row?.version == null ? undefined : BigInt(row.version);
    if (!satisfies(expected, current)) throw new ConcurrencyError(streamId, expected, current ?? 'no_stream');
    return { written: false, nextRevision: current ?? -1n };
  }

  /** NOTIFY outside the append's own transaction: a NOTIFY serialises commits database-wide. */
  private announce(): void {
    if (this.listenOption === false || this.closed) return;
    this.announcePending = true;
    this.announcing ??= this.flushAnnouncements();
  }

  private async flushAnnouncements(): Promise<void> {
    try {
      if (!(await this.usesNotify(this.sql))) {
        this.announcePending = false;
        return;
      }
      // One NOTIFY in flight at a time, covering every append that committed before it was sent, and the next
      // no sooner than NOTIFY_GAP_MS after it: under load a NOTIFY per command was half a query per command.
      while (this.announcePending) {
        this.announcePending = false;
        await this.sql.notify(EVENTS_CHANNEL, this.notifier).catch(() => {});
        if (this.announcePending && !this.closed) await new Promise((resolve) => setTimeout(resolve, NOTIFY_GAP_MS));
      }
    } finally {
      this.announcing = undefined;
    }
  }
}

function satisfies(expected: ExpectedRevision, current: bigint | undefined): boolean {
  return (
    expected === 'any' ||
    (expected === 'no_stream' && current === undefined) ||
    (expected === 'stream_exists' && current !== undefined) ||
    (typeof expected === 'bigint' && current === expected)
  );
}

// $1 stream id, $2 the events as a JSON array, $3 how many, $4 the expected revision (exact only).
const INPUT = `input as (
    select (e->>'id')::uuid as event_id, e->>'type' as type, e->'data' as data, e->'metadata' as metadata,
           decode(e->>'contentHash', 'hex') as content_hash, (o - 1)::bigint as idx
    from jsonb_array_elements($2::text::jsonb) with ordinality as t(e, o))`;

function appendStatement(moveStream: string): string {
  return `with ${INPUT},
    moved as (${moveStream}),
    inserted as (
      insert into events (event_id, stream_id, stream_revision, type, data, metadata, content_hash)
      select i.event_id, $1::text, m.version - $3::bigint + 1 + i.idx, i.type, i.data, i.metadata, i.content_hash
      from moved m cross join input i
      order by i.idx
      returning transaction_id, global_position)
    select (select version from moved) as version,
           (select transaction_id::text || '/' || max(global_position) from inserted group by transaction_id) as position`;
}

/**
 * Moving the stream version takes the stream's row lock, so appends to one stream queue there and each
 * re-checks the version the previous one left. No check for already-stored ids here: the unique event_id
 * makes such a statement fail, and only then is it worth looking (LOOK_AGAIN).
 */
const APPEND = {
  no_stream: appendStatement(
    `insert into streams (stream_id, version) values ($1::text, $3::bigint - 1)
     on conflict (stream_id) do nothing returning version`,
  ),
  any: appendStatement(
    `insert into streams (stream_id, version) values ($1::text, $3::bigint - 1)
     on conflict (stream_id) do update set version = streams.version + excluded.version + 1 returning version`,
  ),
  stream_exists: appendStatement(
    `update streams set version = version + $3::bigint where stream_id = $1::text returning version`,
  ),
  exact: appendStatement(
    `update streams set version = version + $3::bigint where stream_id = $1::text and version = $4::bigint
     returning version`,
  ),
} as const;

/**
 * Which of the ids are stored at all, which as these very events of this stream, and where the stream is. Each id is
 * looked up on its own in the unique index on event_id (the lateral subquery with OFFSET 0 is not flattened into a
 * join): as a plain join, a young table's statistics (a new database, before autovacuum has analysed it) had it planned
 * as a hash join over a sequential scan of the whole log, on every conflict.
 */
const LOOK_AGAIN = `with ${INPUT},
  found as (
    select count(*) as found,
           count(*) filter (where s.stream_id = $1::text and s.type = i.type and s.data = i.data) as same
    from input i
    cross join lateral (select e.stream_id, e.type, e.data from events e where e.event_id = i.event_id offset 0) s)
  select (select version from streams where stream_id = $1::text) as current, found, same from found`;

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    streamId: row.stream,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    revision: BigInt(row.revision),
    position: encodePair(row.txid, String(row.gpos)),
    recordedAt: row.recorded,
  };
}

function limitOf(maxCount: number | undefined): string | null {
  if (maxCount === undefined) return null;
  if (!Number.isInteger(maxCount) || maxCount < 0) throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
  return String(maxCount);
}

function validate(streamId: string, events: EventToAppend[], expected: ExpectedRevision): void {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
  if (typeof expected === 'bigint' && expected < 0n) throw new RangeError(`expected revision must be >= 0, got ${expected}`);
  const ids = new Set<string>();
  for (const event of events) {
    if (typeof event.id !== 'string' || !UUID.test(event.id)) throw new TypeError(`event id must be a UUID, got ${JSON.stringify(event.id)}`);
    const id = event.id.toLowerCase();
    if (ids.has(id)) throw new DuplicateEventError(`event id ${event.id} appears twice in one append`);
    ids.add(id);
    if (typeof event.type !== 'string' || event.type.length === 0) throw new TypeError('event type must be a non-empty string');
    if (event.metadata === null || typeof event.metadata !== 'object' || Array.isArray(event.metadata)) {
      throw new TypeError('event metadata must be an object');
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

function isDeadlock(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '40P01';
}
