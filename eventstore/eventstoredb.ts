import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START as ESDB_START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type JSONType,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
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
import { CHAIN_METADATA_KEY, GENESIS_HASH, chainHash, contentHash } from './hashChain.ts';
import { decodePair, encodePair } from './position.ts';

export interface EventStoreDBEventStoreOptions {
  /**
   * How many of a stream's latest events an append inspects for its own ids. A retry is recognised
   * while its events are among them; further back, a stale expected revision makes it a conflict and the
   * command handler's reload finds the earlier outcome.
   */
  tailWindow?: number;
  batchSize?: number;
}

const PAGE = 512;

type EsdbRecorded = NonNullable<AllStreamResolvedEvent['event']> | NonNullable<ResolvedEvent['event']>;

/**
 * The event store on EventStoreDB. Streams, revisions and optimistic concurrency are the server's own;
 * positions are "<commit>/<prepare>" in $all; system events ($-prefixed) are never returned.
 */
export class EventStoreDBEventStore implements EventStore {
  readonly name = 'eventstoredb';
  private readonly tailWindow: number;
  private readonly batchSize: number;
  private readonly subscriptions = new Set<EsdbSubscription>();

  constructor(
    private readonly client: EventStoreDBClient,
    options: EventStoreDBEventStoreOptions = {},
  ) {
    this.tailWindow = options.tailWindow ?? 64;
    this.batchSize = options.batchSize ?? 500;
  }

  static connect(connectionString: string, options: EventStoreDBEventStoreOptions = {}): EventStoreDBEventStore {
    return new EventStoreDBEventStore(EventStoreDBClient.connectionString(connectionString), options);
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    let tail: RecordedEvent[] = [];
    if (events.length > 0) {
      // The server deduplicates a repeated append only when it repeats the same expected revision; a
      // retry that reloaded first would carry a newer one. Looking at the tail catches both.
      tail = await this.readTail(streamId, Math.max(this.tailWindow, events.length));
      const stored = new Map(tail.map((e) => [e.id.toLowerCase(), e]));
      const matches = events.filter((e) => stored.has(e.id.toLowerCase()));
      if (matches.length > 0) {
        const same = matches.length === events.length && events.every((e) => sameEvent(stored.get(e.id.toLowerCase())!, e));
        if (!same) {
          throw new DuplicateEventError(`event ids ${events.map((e) => e.id).join(', ')} were already used in ${streamId} for other events`);
        }
        return { written: false, nextRevision: tail[0]!.revision };
      }
    }
    try {
      const result = await this.client.appendToStream(
        streamId,
        chained(streamId, events, tail[0]).map((e) =>
          jsonEvent({ id: e.id, type: e.type, data: (e.data ?? null) as JSONType, metadata: e.metadata }),
        ),
        { expectedRevision: toEsdbExpected(expected) },
      );
      return {
        written: events.length > 0,
        nextRevision: result.nextExpectedRevision,
        ...(result.position && { position: encodePair(result.position.commit, result.position.prepare) }),
      };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion;
        throw new ConcurrencyError(streamId, expected, typeof actual === 'bigint' ? actual : 'no_stream');
      }
      throw error;
    }
  }

  async readStream(streamId: string, options: { fromRevision?: bigint; maxCount?: number } = {}): Promise<RecordedEvent[]> {
    if (options.maxCount === 0) return [];
    const out: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, {
        direction: FORWARDS,
        fromRevision: options.fromRevision ?? ESDB_START,
        ...(options.maxCount !== undefined && { maxCount: options.maxCount }),
      })) {
        if (resolved.event) out.push(toRecorded(resolved.event, resolved.commitPosition));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const max = options.maxCount ?? Number.POSITIVE_INFINITY;
    const out: RecordedEvent[] = [];
    if (max <= 0) return out;
    // The server starts a read *at* the given position; the port's `from` is exclusive.
    let floor = toEsdbPosition(options.from);
    let cursor: ReadPosition = floor ?? ESDB_START;
    for (;;) {
      let seen = 0;
      let last: Position | undefined;
      for await (const resolved of this.client.readAll({ fromPosition: cursor, maxCount: PAGE, direction: FORWARDS })) {
        seen++;
        const event = resolved.event;
        if (!event) continue;
        last = event.position;
        if (floor && comparePositions(event.position, floor) <= 0) continue;
        if (!wanted(event, options.streamPrefixes)) continue;
        out.push(toRecorded(event));
        if (out.length >= max) return out;
      }
      if (seen < PAGE || !last) return out;
      floor = last;
      cursor = last;
    }
  }

  subscribe(options: SubscribeOptions, handler: (batch: RecordedEvent[]) => Promise<void>): Subscription {
    const from = toEsdbPosition(options.from);
    const prefixes = options.streamPrefixes;
    const stream = this.client.subscribeToAll({
      fromPosition: from ?? ESDB_START,
      filter: prefixes && prefixes.length > 0 ? streamNameFilter({ prefixes }) : excludeSystemEvents(),
    });
    const subscription = new EsdbSubscription(stream, from, prefixes, options.batchSize ?? this.batchSize, handler, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }

  private async readTail(streamId: string, count: number): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: count })) {
        if (resolved.event) out.push(toRecorded(resolved.event, resolved.commitPosition, true));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return out;
  }
}

/** Delivers a server-side catch-up subscription in batches, one handler call at a time. */
class EsdbSubscription implements Subscription {
  readonly done: Promise<void>;
  private closed = false;

  constructor(
    private readonly stream: AllStreamSubscription,
    private last: Position | undefined,
    private readonly prefixes: string[] | undefined,
    private readonly batchSize: number,
    private readonly handler: (batch: RecordedEvent[]) => Promise<void>,
    onStop: () => void,
  ) {
    this.done = this.run().finally(onStop);
    this.done.catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stream.unsubscribe().catch(() => {});
    await this.done.catch(() => {});
  }

  private async run(): Promise<void> {
    const events = this.stream[Symbol.asyncIterator]();
    try {
      while (!this.closed) {
        const first = await events.next();
        if (first.done || this.closed) return;
        const raw: AllStreamResolvedEvent[] = [first.value];
        // Whatever has already arrived joins the batch; nothing waits for a batch to fill.
        while (raw.length < this.batchSize && this.stream.readableLength > 0) {
          const next = await events.next();
          if (next.done) break;
          raw.push(next.value);
        }
        const batch: RecordedEvent[] = [];
        for (const { event } of raw) {
          if (!event) continue;
          // A reconnecting subscription may replay what it already delivered.
          if (this.last && comparePositions(event.position, this.last) <= 0) continue;
          this.last = event.position;
          if (wanted(event, this.prefixes)) batch.push(toRecorded(event));
        }
        if (batch.length > 0 && !this.closed) await this.handler(batch);
      }
    } catch (error) {
      if (!this.closed) throw error;
    } finally {
      await this.stream.unsubscribe().catch(() => {});
    }
  }
}

function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'no_stream':
      return NO_STREAM;
    case 'any':
      return ANY;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return expected;
  }
}

function toEsdbPosition(position: string | undefined): Position | undefined {
  const pair = decodePair(position, 'EventStoreDB');
  return pair && { commit: pair[0], prepare: pair[1] };
}

function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

function wanted(event: { streamId: string; type: string }, prefixes: string[] | undefined): boolean {
  if (event.streamId.startsWith('$') || event.type.startsWith('$')) return false;
  return !prefixes || prefixes.some((p) => event.streamId.startsWith(p));
}

/** `keepChain`: leave the hash chain in the metadata (only the append needs it; readers get what was appended). */
function toRecorded(event: EsdbRecorded, commitPosition?: bigint, keepChain = false): RecordedEvent {
  const position = event.position
    ? encodePair(event.position.commit, event.position.prepare)
    : encodePair(commitPosition ?? 0n, commitPosition ?? 0n);
  return {
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    data: event.isJson ? event.data : parseJson(event.data),
    metadata: keepChain ? toMetadata(event.metadata) : withoutChain(toMetadata(event.metadata)),
    revision: event.revision,
    position,
    recordedAt: event.created,
  };
}

function withoutChain(metadata: Record<string, unknown>): Record<string, unknown> {
  if (!(CHAIN_METADATA_KEY in metadata)) return metadata;
  const { [CHAIN_METADATA_KEY]: _chain, ...rest } = metadata;
  return rest;
}

function toMetadata(metadata: unknown): Record<string, unknown> {
  if (metadata instanceof Uint8Array) return toMetadata(parseJson(metadata));
  return metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {};
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return bytes;
  }
}

function sameEvent(stored: RecordedEvent, candidate: EventToAppend): boolean {
  return stored.type === candidate.type && canonicalJson(stored.data) === canonicalJson(candidate.data ?? null);
}

/** JSON with object keys sorted, so equal documents compare equal whatever order their keys were written in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The hash chain on EventStoreDB lives in each event's metadata (CHAIN_METADATA_KEY): the server has no column
 * for it and no trigger. The previous hash is the stream's last event as read just before the append; should a
 * concurrent writer slip in between, the expected revision makes one of the two appends fail (with 'any' it
 * would not, which is why the command handler always appends at an exact revision).
 */
function chained(streamId: string, events: EventToAppend[], last: RecordedEvent | undefined): EventToAppend[] {
  let prevHash = (last?.metadata[CHAIN_METADATA_KEY] as { hash?: string } | undefined)?.hash ?? GENESIS_HASH;
  let revision = last ? last.revision + 1n : 0n;
  return events.map((e) => {
    const content = contentHash({ ...e, streamId });
    const hash = chainHash(prevHash, revision, content);
    const out = { ...e, metadata: { ...e.metadata, [CHAIN_METADATA_KEY]: { contentHash: content, prevHash, hash, revision: revision.toString() } } };
    prevHash = hash;
    revision++;
    return out;
  });
}
