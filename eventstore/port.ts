/**
 * The EventStore port: the only way the rest of the system reads or writes facts.
 * Adapters: PostgreSQL (postgres.js; also the embedded PGlite default) and EventStoreDB.
 */

/** Where to append: a stream that must not exist, one at an exact revision, one that must exist, or anywhere. */
export type ExpectedRevision = 'no_stream' | 'any' | 'stream_exists' | bigint;

export interface EventToAppend {
  /** UUID, derived from the command id (see eventIdFor) so a retried command writes nothing new. */
  id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

/**
 * An opaque, totally ordered position in the global log. Adapters encode it as a string
 * (PostgreSQL: "<transaction_id>/<global_position>", EventStoreDB: "<commit>/<prepare>");
 * callers store it and pass it back, and never parse it.
 */
export type LogPosition = string;
/** The position before the first event. */
export const START: LogPosition = 'start';

export interface RecordedEvent {
  id: string;
  streamId: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  /** 0-based revision within the stream. */
  revision: bigint;
  position: LogPosition;
  /** When the store wrote it (the store's clock, not the command's business time). */
  recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  nextRevision: bigint;
  /** False when every event was already stored (an idempotent retry): nothing new was written. */
  written: boolean;
  position?: LogPosition;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. */
  from?: LogPosition;
  maxCount?: number;
  /** Only streams whose id starts with one of these prefixes (e.g. "incident-"). */
  streamPrefixes?: string[];
}

export interface SubscribeOptions extends Omit<ReadAllOptions, 'maxCount'> {
  /** How many events a batch may hold. */
  batchSize?: number;
}

/**
 * A catch-up subscription: delivers every event after `from` in log order, then live ones as they commit.
 * Batches are delivered one at a time; the next waits for the handler's promise.
 */
export interface Subscription {
  /** Resolves when the subscription stops; rejects if the handler or the store failed. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

export interface EventStore {
  readonly name: string;
  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /** All events of one stream in revision order; [] when the stream does not exist. */
  readStream(streamId: string, options?: { fromRevision?: bigint; maxCount?: number }): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribe(options: SubscribeOptions, handler: (batch: RecordedEvent[]) => Promise<void>): Subscription;
  /**
   * True while some committed events cannot be read from the global log yet (PostgreSQL holds back what a
   * transaction still open anywhere on the server might precede). Stores without such a horizon leave it out.
   */
  hasHeldBackEvents?(): Promise<boolean>;
  close(): Promise<void>;
}

/** The expected revision did not match: someone else wrote to the stream first. */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${streamId} is at ${String(actual)}, expected ${String(expected)}`);
  }
}

/** An event id was already stored with a different stream or payload: a command id was reused for other work. */
export class DuplicateEventError extends Error {
  override readonly name = 'DuplicateEventError';
}
