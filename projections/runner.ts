import type { EventStore, LogPosition, RecordedEvent } from '../eventstore/port.ts';
import { ensureCheckpoint, isCheckpointMoved, lockCheckpoint, moveCheckpoint, ORIGIN, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { LOCK_STATEMENT_TIMEOUT_MS, openLockSession, projectionLocks, type LockSession } from './lock.ts';
import { inTransactionConnection, TRANSACTION_TIMEOUT_MS, TransactionConnection } from './transactionConnection.ts';
import { applyBatch, BoardMemory, query, restoreReadModelIndexes, type CommittedChange, type Db, type FaultHook, type Tx } from './readModels.ts';

/** The PostgreSQL channel on which a committed batch's seq is announced to every process. */
export const FEED_CHANNEL = 'cbd_feed';
export const DEFAULT_PROJECTION = 'read-models';

/** Pino's calling convention; console works too. */
export interface ProjectorLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ProjectorOptions {
  store: EventStore;
  sql: Db;
  name?: string;
  batchSize?: number;
  /** Announce each batch with NOTIFY cbd_feed (useful on a real PostgreSQL; PGlite does not deliver it across its socket). */
  listen?: boolean;
  log?: ProjectorLog;
  /** How often a standby runner tries to take over. */
  lockRetryMs?: number;
  /** How often the active runner checks its lock connection and whether a rebuild waits for it. */
  heartbeatMs?: number;
  /** How long a statement on the lock's connection may go unanswered before the lock is taken for lost. */
  lockTimeoutMs?: number;
  /** How long a batch's transaction may go unanswered before its connection is given up on. */
  transactionTimeoutMs?: number;
  /** First pause after a failed batch; doubles up to 30 s while failures repeat. */
  retryDelayMs?: number;
  /** Test hook: throw from it to make a batch fail at a chosen point. */
  fault?: FaultHook;
}

export interface CommittedBatch {
  /** seq of the last event now applied. */
  toSeq: number;
  /** Events the batch added. */
  events: number;
  position: LogPosition;
  /** What the batch added, as the live feed would read it back (so a feed in this process need not). */
  changes: CommittedChange[];
}

export type ProjectorRole = 'starting' | 'active' | 'standby' | 'stopped';

export interface Projector {
  readonly name: string;
  /** Settles once the runner knows its role (active with its subscription open, or standby); rejects with a start-up failure. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** Called after each batch this runner commits; returns the unsubscribe function. */
  onCommitted(listener: (info: CommittedBatch) => void): () => void;
  /** Resolves once every event the store holds now is in the read models (whoever applied it). */
  settle(timeoutMs?: number): Promise<void>;
  /** The last seq this runner committed, or, in standby, the last one it saw in the checkpoint. */
  seq(): number;
  role(): ProjectorRole;
}

const silent: ProjectorLog = { info() {}, warn() {}, error() {} };

/** The lock connection failed: its session, and so the lock, may be gone. */
class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

/** A batch delivered by a subscription this runner has already abandoned. */
class SupersededError extends Error {
  override readonly name = 'SupersededError';
}

type Outcome = 'stop' | 'yield' | { error: unknown };

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint_name?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === '23505' && e.constraint_name === constraint;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

class ProjectorRunner implements Projector {
  readonly name: string;
  readonly ready: Promise<void>;
  private readonly store: EventStore;
  private readonly sql: Db;
  private readonly batchSize: number;
  private readonly listen: boolean;
  private readonly log: ProjectorLog;
  private readonly lockRetryMs: number;
  private readonly heartbeatMs: number;
  private readonly retryDelayMs: number;
  private readonly lockTimeoutMs: number;
  private readonly transactionTimeoutMs: number;
  private readonly fault: FaultHook | undefined;
  private readonly locks: ReturnType<typeof projectionLocks>;

  private current: Checkpoint = ORIGIN;
  /** The board rows this runner has committed while leading (see BoardMemory). */
  private readonly memory = new BoardMemory();
  /** Where its batches go, each as one pipeline of statements. */
  private readonly transactions: TransactionConnection;
  private state: ProjectorRole = 'starting';
  private readonly stopping = new AbortController();
  private readonly listeners = new Set<(info: CommittedBatch) => void>();
  private readonly commitWaiters = new Set<() => void>();
  private lockSession: LockSession | null = null;
  private generation = 0;
  private inflight: Promise<void> = Promise.resolve();
  private settleReady!: (error?: unknown) => void;
  private readonly loop: Promise<void>;

  constructor(options: ProjectorOptions) {
    this.store = options.store;
    this.sql = options.sql;
    this.name = options.name ?? DEFAULT_PROJECTION;
    this.batchSize = options.batchSize ?? 500;
    this.listen = options.listen ?? false;
    this.log = options.log ?? silent;
    this.lockRetryMs = options.lockRetryMs ?? 1000;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.lockTimeoutMs = options.lockTimeoutMs ?? LOCK_STATEMENT_TIMEOUT_MS;
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? TRANSACTION_TIMEOUT_MS;
    this.fault = options.fault;
    this.locks = projectionLocks(this.name);
    this.transactions = new TransactionConnection(this.sql);
    this.ready = new Promise<void>((resolve, reject) => {
      let settled = false;
      this.settleReady = (error?: unknown) => {
        if (settled) return;
        settled = true;
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    // Nobody may be awaiting ready when a later failure happens; the loop logs and retries regardless.
    this.ready.catch(() => {});
    this.loop = this.run();
  }

  seq(): number {
    return this.current.seq;
  }

  role(): ProjectorRole {
    return this.state;
  }

  onCommitted(listener: (info: CommittedBatch) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  async settle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.state === 'stopped') throw new Error(`projector ${this.name} is stopped`);
      let at = this.current;
      if (this.state !== 'active') {
        at = (await readCheckpoint(this.sql, this.name)) ?? ORIGIN;
        // A standby's seq() is what the writer last checkpointed; keep it as fresh as this look (never older).
        if (this.state === 'standby' && at.seq > this.current.seq) this.current = at;
      }
      const ahead = await this.store.readAll({ from: at.position, maxCount: 1 });
      // Settled means every event committed so far is applied, including those still behind the read horizon.
      if (ahead.length === 0 && !(await this.store.hasHeldBackEvents?.())) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`projector ${this.name} did not catch up within ${timeoutMs} ms (at seq ${at.seq})`);
      await this.nextCommit(Math.min(left, 50));
    }
  }

  private nextCommit(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.commitWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.commitWaiters.add(done);
    });
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        this.lockSession ??= await openLockSession(this.sql, this.lockTimeoutMs);
        if (!(await this.lockSession.tryLock(this.locks.writer, this.locks.rebuild))) {
          await this.standby();
          continue;
        }
        try {
          failures = 0;
          await this.lead();
        } finally {
          await this.unlock();
        }
      } catch (error) {
        failures += 1;
        this.settleReady(error);
        this.log.error({ err: error, projection: this.name }, 'projector failed; retrying');
        await this.dropLockConnection();
        await sleep(this.backoff(failures), this.stopping.signal);
      }
    }
    this.state = 'stopped';
    await this.dropLockConnection();
    await this.transactions.close();
    this.settleReady();
    for (const wake of this.commitWaiters) wake();
  }

  private async standby(): Promise<void> {
    if (this.state !== 'standby') this.log.info({ projection: this.name }, 'projector on standby: another process is writing');
    this.state = 'standby';
    this.current = (await readCheckpoint(this.sql, this.name)) ?? ORIGIN;
    this.settleReady();
    await sleep(this.lockRetryMs, this.stopping.signal);
  }

  /** Writes the projection while this runner holds the lock; returns to give the lock up, throws if it was lost. */
  private async lead(): Promise<void> {
    this.state = 'active';
    let failures = 0;
    // A rebuild that died midway left the read models without their secondary indexes: build them first.
    const restored = await restoreReadModelIndexes(this.sql);
    if (restored > 0) this.log.info({ projection: this.name, indexes: restored }, 'rebuilt the indexes an unfinished rebuild had deferred');
    while (!this.stopped) {
      // Whatever happened before this (another writer, a rebuild, a failed batch), the boards are read afresh.
      this.memory.forget();
      this.current = await ensureCheckpoint(this.sql, this.name);
      this.log.info({ projection: this.name, seq: this.current.seq, position: this.current.position }, 'projector active');
      const outcome = await this.follow();
      if (outcome === 'stop') return;
      if (outcome === 'yield') {
        this.log.info({ projection: this.name }, 'projector stepping aside for a rebuild');
        return;
      }
      const { error } = outcome;
      if (error instanceof LockLostError) throw error;
      if (isCheckpointMoved(error)) throw error;
      failures += 1;
      this.log.error({ err: error, projection: this.name, seq: this.current.seq }, 'projection batch failed; resuming from the checkpoint');
      await sleep(this.backoff(failures), this.stopping.signal);
    }
  }

  private async follow(): Promise<Outcome> {
    const generation = ++this.generation;
    const watching = new AbortController();
    const subscription = this.store.subscribe({ from: this.current.position, batchSize: this.batchSize }, (batch) =>
      this.handle(batch, generation),
    );
    this.settleReady();
    let onStop = () => {};
    const stopped = new Promise<Outcome>((resolve) => {
      onStop = () => resolve('stop');
      if (this.stopped) onStop();
      this.stopping.signal.addEventListener('abort', onStop, { once: true });
    });
    try {
      return await Promise.race<Outcome>([
        subscription.done.then(
          () => ({ error: new Error('the subscription ended by itself') }),
          (error: unknown) => ({ error }),
        ),
        stopped,
        this.watchLock(watching.signal),
      ]);
    } finally {
      this.stopping.signal.removeEventListener('abort', onStop);
      watching.abort();
      this.generation += 1;
      await subscription.close().catch((error: unknown) => this.log.warn({ err: error, projection: this.name }, 'closing the subscription failed'));
      // The lock must not be released while a batch of the old subscription is still committing.
      await this.inflight.catch(() => {});
    }
  }

  /** Resolves when the runner must stop writing: a rebuild waits ('yield') or the lock connection failed. */
  private async watchLock(signal: AbortSignal): Promise<Outcome> {
    while (!signal.aborted) {
      await sleep(this.heartbeatMs, signal);
      if (signal.aborted || !this.lockSession) break;
      try {
        const { holding, waited } = await this.lockSession.check(this.locks.writer, this.locks.rebuild);
        if (!holding) return { error: new LockLostError('this session no longer holds the projection lock') };
        if (waited) return 'yield';
      } catch (error) {
        return { error: new LockLostError(error instanceof Error ? error.message : String(error)) };
      }
    }
    return new Promise<Outcome>(() => {});
  }

  private handle(batch: RecordedEvent[], generation: number): Promise<void> {
    if (generation !== this.generation || this.stopped) return Promise.reject(new SupersededError('subscription closed'));
    if (batch.length === 0) return Promise.resolve();
    const work = this.commit(batch);
    this.inflight = work;
    return work;
  }

  private async commit(batch: RecordedEvent[]): Promise<void> {
    // Folded from the board rows it remembers, the batch is one round trip; otherwise the rows are read first (a
    // second one). A test's injected faults take the careful way, where each step is awaited before the next.
    const remembered = !this.fault && this.memory.covers(batch);
    try {
      await this.commitBatch(batch, remembered);
    } catch (error) {
      this.memory.forget();
      // An event already in event_log (a redelivery): the careful way looks for such events and skips them.
      if (remembered && isUniqueViolation(error, 'event_log_event_id_key')) return this.commitBatch(batch, false);
      throw error;
    }
  }

  private async commitBatch(batch: RecordedEvent[], remembered: boolean): Promise<void> {
    const from = this.current;
    const fault = this.fault;
    // A connection of its own, so BEGIN goes out with the batch's reads and COMMIT with its writes (under load each
    // round trip waits its turn on a busy event loop and a busy database). A batch given up on (no answer) changes
    // nothing here: what this runner believes moves only below, once the batch has answered.
    const { next, result } = await inTransactionConnection(this.transactions, async (connection, session) => {
      const conn = connection as unknown as Tx;
      let open = true;
      try {
        const begin = query(conn, 'begin');
        // Read models are derived from the log and their checkpoint commits with them: a batch lost with a crash of
        // the database server is applied again from the checkpoint before it. Their commit need not wait for the disk.
        const asyncCommit = query(conn, 'set local synchronous_commit = off');
        let next: Checkpoint = from;
        let committed = false;
        const result = await applyBatch(conn, batch, from.seq, {
          ...(fault && { fault }),
          ...(remembered && { memory: this.memory }),
          alongside: {
            // Read the careful way, the checkpoint row is locked and checked with the reads; remembered, it is checked
            // as it is moved, in the same statement.
            reads: () => Promise.all([begin, asyncCommit, ...(remembered ? [] : [lockCheckpoint(conn, this.name, from)])]),
            // The writes must go where BEGIN went (see TransactionSession).
            beforeWrites: () => session.assertUnbroken(),
            writes: async (applied) => {
              next = { position: applied.lastPosition, seq: applied.lastSeq };
              if (fault) await fault({ stage: 'checkpoint' });
              session.assertUnbroken();
              const writes: Array<Promise<unknown>> = [remembered ? moveCheckpoint(conn, this.name, from, next) : writeCheckpoint(conn, this.name, next)];
              // Inside the transaction: PostgreSQL delivers it at commit, and never for a batch that rolled back.
              if (this.listen && applied.applied > 0) writes.push(query(conn, 'select pg_notify($1, $2)', [FEED_CHANNEL, String(next.seq)]));
              // COMMIT right behind the writes. A statement that failed has aborted the transaction already, and
              // PostgreSQL answers this COMMIT with a rollback. Under a test's injected faults each step is awaited
              // first, so a fault stops the batch before anything commits.
              if (!fault) {
                writes.push(query(conn, 'commit'));
                committed = true;
              }
              await Promise.all(writes);
            },
          },
        });
        if (!committed) {
          session.assertUnbroken();
          await query(conn, 'commit');
        }
        open = false;
        return { next, result };
      } catch (error) {
        // Nothing of the batch stays.
        if (open) await session.rollbackAfter(error);
        throw error;
      }
    }, this.transactionTimeoutMs);
    this.current = next;
    this.memory.remember(result.rows);
    if (result.applied > 0) this.emit({ toSeq: next.seq, events: result.applied, position: next.position, changes: result.changes });
    for (const wake of this.commitWaiters) wake();
  }

  private emit(info: CommittedBatch): void {
    for (const listener of this.listeners) {
      try {
        listener(info);
      } catch (error) {
        this.log.warn({ err: error, projection: this.name }, 'a commit listener threw');
      }
    }
  }

  private async unlock(): Promise<void> {
    if (!this.lockSession) return;
    // A lost session sends nothing: it holds no lock any more, and its connection would not answer.
    await this.lockSession.unlock(this.locks.writer);
    if (this.lockSession.lost) {
      this.log.warn({ projection: this.name }, 'the projection lock was lost with its connection');
      await this.dropLockConnection();
    }
  }

  private async dropLockConnection(): Promise<void> {
    const session = this.lockSession;
    this.lockSession = null;
    await session?.release();
  }

  private backoff(failures: number): number {
    return Math.min(this.retryDelayMs * 2 ** Math.max(0, failures - 1), 30_000);
  }
}

/**
 * Starts the projector for the read models: one active writer per projection name across all processes
 * (elected with an advisory lock), the rest on standby. Each batch's rows and checkpoint commit together.
 */
export function startProjector(options: ProjectorOptions): Projector {
  return new ProjectorRunner(options);
}
