import { query, type Db } from './readModels.ts';
import { answeredWithin, oneConnectionClient } from './transactionConnection.ts';

// Advisory locks are one keyspace per database; ours use the two-int form with this first half,
// so they cannot collide with single-bigint locks other code may take.
const NAMESPACE = 0x43424450; // "CBDP"

/** A stable 31-bit hash of a name (FNV-1a): the same projection name gives the same lock in every process. */
function hash31(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

export interface ProjectionLocks {
  /** Held by the one process that writes the projection. */
  writer: number;
  /** Held by a rebuild while it waits: tells the live writer to step aside. */
  rebuild: number;
}

export function projectionLocks(name: string): ProjectionLocks {
  return { writer: hash31(`projection:${name}`), rebuild: hash31(`projection-rebuild:${name}`) };
}

// pg_locks lists the whole server; advisory locks are per database, so other databases' must not count.
const held = (key: string, mine: boolean) =>
  `exists (select 1 from pg_locks where locktype = 'advisory' and classid::bigint = $1 and objid::bigint = ${key}` +
  ` and objsubid = 2 and granted and database = (select oid from pg_database where datname = current_database())` +
  `${mine ? ' and pid = pg_backend_pid()' : ''})`;

/**
 * Tries to take a session-level advisory lock on `conn` (see openLockSession: the lock lives as long as its session).
 * Session locks are re-entrant, and the embedded PGlite serves every socket from one backend session, so a
 * plain pg_try_advisory_lock would hand the same lock to two runners there; refusing a lock this session
 * already holds makes it exclusive between connections in both modes. With `yieldTo`, a held lock of that key
 * (a waiting rebuild) also means no.
 */
async function tryAdvisoryLock(conn: Db, key: number, yieldTo?: number): Promise<boolean> {
  const rows = await query<Array<{ acquired: boolean }>>(conn, 
    `select case
       when $4::boolean and ${held('$3', false)} then false
       when ${held('$2', true)} then false
       else pg_try_advisory_lock($1::int, $2::int)
     end as acquired`,
    [NAMESPACE, key, yieldTo ?? 0, yieldTo !== undefined],
  );
  return rows[0]?.acquired === true;
}

async function releaseAdvisoryLock(conn: Db, key: number): Promise<void> {
  await query(conn, 'select pg_advisory_unlock($1::int, $2::int)', [NAMESPACE, key]);
}

/**
 * The active writer's heartbeat on its lock connection: does this session still hold `key` (postgres.js
 * silently reconnects a dropped connection, and a new session holds nothing), and is anyone holding `waiting`?
 */
async function checkAdvisoryLocks(conn: Db, key: number, waiting: number): Promise<{ holding: boolean; waited: boolean }> {
  const rows = await query<Array<{ holding: boolean; waited: boolean }>>(conn, 
    `select ${held('$2', true)} as holding, ${held('$3', false)} as waited`,
    [NAMESPACE, key, waiting],
  );
  return { holding: rows[0]?.holding === true, waited: rows[0]?.waited === true };
}

/** How long a lock statement may go unanswered before its session is given up as lost. */
export const LOCK_STATEMENT_TIMEOUT_MS = 10_000;

/** The session a lock lived on is gone (or no longer answers): so is every lock it held. */
export class LockSessionLostError extends Error {
  override readonly name = 'LockSessionLostError';
}

/**
 * The connection session-level locks live on, for as long as the holder keeps it. A statement that fails or goes
 * unanswered loses the session for good: its connection is closed (so the server frees its locks, if it still had
 * them) and nothing more is sent on it. The published postgres.js 3.4.9 never answered a statement sent on a
 * connection between the connection's error and its close, so a holder that sent its unlock on the connection that
 * had just failed waited for ever (patches/ mends the driver; nothing here relies on that).
 */
export interface LockSession {
  /** Whether a statement of this session failed: its locks are gone, and every further statement refuses at once. */
  readonly lost: boolean;
  tryLock(key: number, yieldTo?: number): Promise<boolean>;
  check(key: number, waiting: number): Promise<{ holding: boolean; waited: boolean }>;
  /**
   * Gives `key` up. Never fails: on a lost session there is nothing to give up, and nothing is sent; an unlock that
   * fails loses the session, and its closing frees the lock.
   */
  unlock(key: number): Promise<void>;
  /** Closes the session (and so frees its locks); safe to call on a session that was lost. */
  release(): Promise<void>;
}

/**
 * A client of one connection of its own, so the lock lives and dies with one session. Not `sql.reserve()`:
 * postgres.js hangs a reserved connection whose backend was terminated (its next query never settles and
 * an uncaught TypeError escapes). A pool of a single connection is how the embedded PGlite is driven: every client
 * shares PGlite's one backend session anyway, so the lock is taken on the pool itself, which is in this process
 * and cannot be lost, and is never closed here.
 */
export async function openLockSession(sql: Db, timeoutMs = LOCK_STATEMENT_TIMEOUT_MS): Promise<LockSession> {
  const o = sql.options;
  if ((o?.max ?? 10) <= 1) return lockSessionOn(async (work) => work(sql), async () => {});
  const conn = oneConnectionClient(sql);
  let lost: LockSessionLostError | undefined;
  const close = (seconds: number) => conn.end({ timeout: seconds }).catch(() => {});
  const run = async <T>(work: (conn: Db) => Promise<T>): Promise<T> => {
    if (lost) throw lost;
    try {
      return await answeredWithin(work(conn), timeoutMs, () => new Error(`the database did not answer within ${timeoutMs} ms`));
    } catch (error) {
      lost ??= new LockSessionLostError(`lock connection failed: ${error instanceof Error ? error.message : String(error)}`);
      void close(0);
      throw lost;
    }
  };
  return lockSessionOn(run, () => close(2), () => lost !== undefined);
}

function lockSessionOn(
  run: <T>(work: (conn: Db) => Promise<T>) => Promise<T>,
  release: () => Promise<void>,
  isLost: () => boolean = () => false,
): LockSession {
  return {
    get lost() {
      return isLost();
    },
    tryLock: (key, yieldTo) => run((c) => tryAdvisoryLock(c, key, yieldTo)),
    check: (key, waiting) => run((c) => checkAdvisoryLocks(c, key, waiting)),
    unlock: async (key) => {
      if (isLost()) return;
      await run((c) => releaseAdvisoryLock(c, key)).catch(() => {});
    },
    release,
  };
}
