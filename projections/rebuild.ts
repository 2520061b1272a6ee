import { START, type EventStore, type RecordedEvent } from '../eventstore/port.ts';
import { ensureCheckpoint, lockCheckpoint, ORIGIN, writeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { openLockSession, projectionLocks, type LockSession } from './lock.ts';
import {
  deferReadModelIndexes,
  prepareRebuildBatch,
  restoreReadModelIndexes,
  query,
  RebuildRows,
  reloadRebuildRows,
  rowsToReload,
  truncateReadModels,
  writePreparedBatch,
  type Db,
  type PreparedBatch,
} from './readModels.ts';
import { DEFAULT_PROJECTION } from './runner.ts';

export interface RebuildProgress {
  applied: number;
  /** What the read models held before the rebuild, or more once the replay passes it: a progress bar's total, not a promise. */
  expected: number;
  elapsedMs: number;
  eventsPerSecond: number;
}

export interface RebuildOptions {
  store: EventStore;
  sql: Db;
  name?: string;
  /** Events per page read and per transaction written. */
  batchSize?: number;
  /** Board rows kept in memory between batches (default 50,000); beyond it the least recent are read back when needed. */
  rowMemory?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Called once if the live projector holds the lock, before waiting for it to step aside. */
  onWaiting?: () => void;
  /** How often to try for the lock while waiting. */
  pollMs?: number;
  /** How often the rebuild checks, while it writes, that its session still holds the lock (default 1 s). */
  heartbeatMs?: number;
  signal?: AbortSignal;
}

/** The rebuild's lock session ended while it was writing: another projector may write now, so it stopped. */
export class RebuildLockLostError extends Error {
  override readonly name = 'RebuildLockLostError';
}

export interface RebuildResult {
  events: number;
  incidents: number;
  units: number;
  batches: number;
  seconds: number;
  eventsPerSecond: number;
  checkpoint: Checkpoint;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Empties the read models and replays the whole log through the same code the live projector runs.
 *
 * It first takes the projection's rebuild lock, which a live projector watches for and steps aside on, then
 * the writer lock itself, so the two never write at once, in this process or another. Each batch commits with
 * its checkpoint, like a live one: a rebuild that dies midway leaves a consistent prefix that the live
 * projector simply continues.
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<RebuildResult> {
  const { store, sql, onProgress, signal } = options;
  const name = options.name ?? DEFAULT_PROJECTION;
  const batchSize = options.batchSize ?? 5000;
  const pollMs = options.pollMs ?? 200;
  const locks = projectionLocks(name);
  const session = await openLockSession(sql);
  try {
    // Only one rebuild at a time; the key's mere presence tells the live projector to let go.
    while (!(await session.tryLock(locks.rebuild))) await pause(pollMs, signal);
    try {
      let told = false;
      while (!(await session.tryLock(locks.writer))) {
        if (!told) options.onWaiting?.();
        told = true;
        await pause(pollMs, signal);
      }
      // The lock lives as long as its session. If the session ends (the connection is cut, the backend terminated),
      // the live projector may take the lock and write: the rebuild stops at its next batch. Whatever it committed
      // is a consistent prefix that the projector carries on from.
      const held = new AbortController();
      const watching = watchLock(session, locks.writer, options.heartbeatMs ?? 1000, held);
      try {
        return await replay(store, sql, name, batchSize, options.rowMemory, onProgress, signal ? AbortSignal.any([signal, held.signal]) : held.signal);
      } finally {
        held.abort();
        await watching;
        await session.unlock(locks.writer);
      }
    } finally {
      await session.unlock(locks.rebuild);
    }
  } finally {
    await session.release();
  }
}

/** Until `held` is aborted, checks every `everyMs` that `session` still holds `key`; aborts `held` with why not. */
async function watchLock(session: LockSession, key: number, everyMs: number, held: AbortController): Promise<void> {
  while (!held.signal.aborted) {
    await pause(everyMs, held.signal).catch(() => {});
    if (held.signal.aborted) return;
    let why: string | undefined;
    try {
      if (!(await session.check(key, key)).holding) why = 'its database session no longer holds the lock';
    } catch (error) {
      why = error instanceof Error ? error.message : String(error);
    }
    if (why !== undefined && !held.signal.aborted) {
      held.abort(new RebuildLockLostError(`the rebuild lost its lock on the read models (${why}) and stopped; what it committed stays, and the live projector carries on from there`));
    }
  }
}

async function replay(
  store: EventStore,
  sql: Db,
  name: string,
  batchSize: number,
  rowMemory: number | undefined,
  onProgress: RebuildOptions['onProgress'],
  signal: AbortSignal | undefined,
): Promise<RebuildResult> {
  const [before] = await query<Array<{ seq: string }>>(sql, 'select coalesce(max(seq), 0)::text as seq from event_log');
  const expected = Number(before?.seq ?? 0);
  await sql.begin(async (tx) => {
    await truncateReadModels(tx);
    await deferReadModelIndexes(tx);
    await query(tx, 'delete from projection_checkpoints where projection = $1', [name]);
    await ensureCheckpoint(tx, name);
  });

  const started = performance.now();
  let at: Checkpoint = ORIGIN;
  let batches = 0;
  const read = (from: string): Promise<RecordedEvent[]> => {
    const page = store.readAll({ from, maxCount: batchSize });
    // Read ahead while the previous page is being written; a failure surfaces when the page is awaited.
    page.catch(() => {});
    return page;
  };
  // Each batch is folded in memory (RebuildRows) while the ones before it are being written, so the fold and the
  // database work overlap. Two batches are written at once, on two connections: a batch's event_log rows go in while
  // the one before it is still being written, but it writes its boards, moves the checkpoint and commits only after
  // that one has committed, so the committed batches are always a prefix of the log.
  const rows = new RebuildRows(rowMemory);
  let seq = 0;
  const inFlight: Array<Promise<Checkpoint>> = [];
  const write = (from: Checkpoint, prepared: PreparedBatch, before: Promise<Checkpoint> | undefined): Promise<Checkpoint> =>
    sql.begin(async (tx) => {
      // Its event_log rows go in beside the batch before (their keys are new); its boards, checkpoint and commit only
      // behind it: a failure there fails this one too, and nothing of it commits.
      const applied = await writePreparedBatch(tx, prepared, { ...(before && { boardsAfter: before }) });
      await lockCheckpoint(tx, name, from);
      const checkpoint: Checkpoint = { position: applied.lastPosition, seq: applied.lastSeq };
      await writeCheckpoint(tx, name, checkpoint);
      return checkpoint;
    }).then((moved) => {
      batches += 1;
      const elapsedMs = performance.now() - started;
      onProgress?.({ applied: moved.seq, expected: Math.max(expected, moved.seq), elapsedMs, eventsPerSecond: moved.seq / Math.max(elapsedMs / 1000, 1e-3) });
      return moved;
    });
  // The checkpoint the next batch moves on from: where the last batch handed to a writer leaves it.
  let planned: Checkpoint = at;
  const drain = async () => {
    while (inFlight.length > 0) at = await inFlight.shift()!;
  };
  let next = read(START);
  try {
    for (;;) {
      signal?.throwIfAborted();
      const events = await next;
      const last = events.at(-1);
      if (!last) break;
      next = read(last.position);
      const wanted = rowsToReload(rows, events);
      if (wanted) {
        // Rows let go of are read back from the tables, once what was written of them has committed.
        await drain();
        await reloadRebuildRows(sql, rows, wanted);
      }
      const prepared = prepareRebuildBatch(events, seq, rows);
      seq = prepared.result.lastSeq;
      if (inFlight.length >= 2) at = await inFlight.shift()!;
      const writing = write(planned, prepared, inFlight.at(-1));
      // Awaited in turn or after the loop; until then a failure must not count as unhandled.
      writing.catch(() => {});
      inFlight.push(writing);
      planned = { position: prepared.result.lastPosition, seq: prepared.result.lastSeq };
    }
    await drain();
  } catch (error) {
    // Stopped or failed: the batches being written end (commit or roll back) before this returns. Left running,
    // their open transactions held locks on the read models while whoever came next (a projector taking the lead,
    // rebuilding the deferred indexes) waited on them.
    await Promise.allSettled(inFlight);
    throw error;
  }
  // Part of the rebuild's time: the tables are not done until they have their indexes.
  await restoreReadModelIndexes(sql);
  const seconds = (performance.now() - started) / 1000;
  const [counts] = await query<Array<{ incidents: string; units: string }>>(
    sql,
    'select (select count(*) from incident_board)::text as incidents, (select count(*) from unit_board)::text as units',
  );
  return {
    events: at.seq,
    incidents: Number(counts?.incidents ?? 0),
    units: Number(counts?.units ?? 0),
    batches,
    seconds,
    eventsPerSecond: at.seq / Math.max(seconds, 1e-3),
    checkpoint: at,
  };
}
