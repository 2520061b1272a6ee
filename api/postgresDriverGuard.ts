// A guard around a postgres.js 3.4.9 defect that takes the whole process down when the database goes away
// (porsager/postgres#1154, #1208; fixes proposed in #1168, #1176, #1209, none released yet).
//
// The driver batches small writes behind setImmediate(nextWrite), and two paths go wrong when a connection closes:
// - a write queued just before the close, or made after it (the driver's own transaction ROLLBACK is), runs
//   nextWrite with its socket already null: a TypeError thrown from the immediate, where nothing can catch it,
//   and the process exits;
// - the close cancels a queued write (clearImmediate) without forgetting it, so the connection's buffer stays
//   "scheduled" for good: on reconnect even its start-up message is never sent, and every query on that pool
//   slot hangs until connect_timeout, again and again.
// Found by test/fault/databaseOutage.test.ts (the network to PostgreSQL cut, backends terminated, under load).
//
// The guard recognises the driver's nextWrite immediates by name. When one throws for a null socket, or is
// cancelled by the driver's closed(), it calls nextWrite again every few milliseconds until the connection has
// a socket again. That empties the stuck buffer: its stale bytes reach the new socket ahead of the start-up
// message, the server refuses that one attempt, and the driver reconnects cleanly. The queries involved were
// already rejected with CONNECTION_CLOSED, which the API answers with 503.
// Remove this file (and its call in api/main.ts) once a postgres.js release fixes nextWrite and closed().
import { promisify } from 'node:util';

const RETRY_MS = 20;
/** A connection that stays gone longer than this is the driver's to report; the guard stops retrying. */
const GIVE_UP_MS = 10 * 60_000;
let installed = false;

function isNullSocket(error: unknown): boolean {
  return error instanceof TypeError && /reading 'write'|evaluating 'socket\.write'/.test(error.message);
}

/** Flushes a stuck write buffer once its connection has a socket again. */
function flushWhenReconnected(nextWrite: () => void, onIntercept?: (what: string) => void, reason = 'a write on a closed connection'): void {
  onIntercept?.(`${reason}; flushed once the driver reconnects`);
  const deadline = Date.now() + GIVE_UP_MS;
  const attempt = () => {
    try {
      nextWrite();
    } catch (error) {
      // Still no socket: wait for the driver's reconnect. Anything else (the buffer was flushed meanwhile) ends it.
      if (isNullSocket(error) && Date.now() < deadline) setTimeout(attempt, RETRY_MS).unref();
    }
  };
  setTimeout(attempt, RETRY_MS).unref();
}

/**
 * Whether an unhandled rejection is the driver's own fetch of array types failing with its connection. Each new
 * connection of a pool asks PostgreSQL for its array types from an async function whose promise nothing awaits
 * (fetchArrayTypes in postgres.js 3.4.9), so a connection terminated or cut during that query rejects a promise
 * nobody can catch, and Node ends the process. Found by the fault suite (backends terminated repeatedly under load).
 * The connection reconnects and asks again by itself; nothing of ours was waiting on it.
 */
export function isDriverTypeFetchFailure(reason: unknown): boolean {
  const query = (reason as { query?: unknown } | null)?.query;
  return typeof query === 'string' && /pg_catalog\.pg_type/.test(query) && /typarray/.test(query) && /typcategory = 'A'/.test(query);
}

export function installPostgresDriverGuard(onIntercept?: (what: string) => void): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    if (isDriverTypeFetchFailure(reason)) {
      onIntercept?.(`its fetch of array types failed with its connection (${(reason as Error).message})`);
      return;
    }
    // Anything else ends the process, as Node would have: the crash fault test shows a restart loses nothing.
    throw reason;
  });
  const originalSet = globalThis.setImmediate;
  const originalClear = globalThis.clearImmediate;
  const pending = new WeakMap<object, () => void>();

  const setImmediate = function setImmediate(callback: (...args: unknown[]) => void, ...args: unknown[]) {
    if (typeof callback !== 'function' || callback.name !== 'nextWrite') return originalSet(callback, ...args);
    const run = () => callback(...args);
    const immediate = originalSet(() => {
      pending.delete(immediate);
      try {
        run();
      } catch (error) {
        if (isNullSocket(error)) flushWhenReconnected(run, onIntercept);
        else throw error;
      }
    });
    pending.set(immediate, run);
    return immediate;
  } as typeof globalThis.setImmediate;
  (setImmediate as unknown as Record<symbol, unknown>)[promisify.custom] = (originalSet as unknown as Record<symbol, unknown>)[promisify.custom];

  const clearImmediate = function clearImmediate(immediate: NodeJS.Immediate | string | number | undefined) {
    const run = immediate && typeof immediate === 'object' ? pending.get(immediate) : undefined;
    originalClear(immediate as NodeJS.Immediate);
    if (!run) return;
    pending.delete(immediate as object);
    // Only the driver's closed() leaves the buffer stuck; nextWrite itself clears after flushing, and
    // terminate() ends the connection for good.
    if (/\bat closed \(/.test(new Error().stack ?? '')) flushWhenReconnected(run, onIntercept, 'a write cancelled by a closed connection');
  } as typeof globalThis.clearImmediate;

  globalThis.setImmediate = setImmediate;
  globalThis.clearImmediate = clearImmediate;
}
