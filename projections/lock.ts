import { query, type Db } from './readModels.ts';
import { oneConnectionClient } from './transactionConnection.ts';

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
export async function tryAdvisoryLock(conn: Db, key: number, yieldTo?: number): Promise<boolean> {
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

export async function releaseAdvisoryLock(conn: Db, key: number): Promise<void> {
  await query(conn, 'select pg_advisory_unlock($1::int, $2::int)', [NAMESPACE, key]);
}

/**
 * The active writer's heartbeat on its lock connection: does this session still hold `key` (postgres.js
 * silently reconnects a dropped connection, and a new session holds nothing), and is anyone holding `waiting`?
 */
export async function checkAdvisoryLocks(conn: Db, key: number, waiting: number): Promise<{ holding: boolean; waited: boolean }> {
  const rows = await query<Array<{ holding: boolean; waited: boolean }>>(conn, 
    `select ${held('$2', true)} as holding, ${held('$3', false)} as waited`,
    [NAMESPACE, key, waiting],
  );
  return { holding: rows[0]?.holding === true, waited: rows[0]?.waited === true };
}

/** The connection a session-level lock lives on, for as long as the holder keeps it. */
export interface LockSession {
  conn: Db;
  /** Closes the session (and so frees its locks); safe to call on a session that already failed. */
  release(): Promise<void>;
}

/**
 * A client of one connection of its own, so the lock lives and dies with one session. Not `sql.reserve()`:
 * postgres.js hangs a reserved connection whose backend was terminated (its next query never settles and
 * an uncaught TypeError escapes), whereas a one-connection client reconnects to a fresh session, where the
 * holder's heartbeat sees the lock gone. A pool of a single connection is how the embedded PGlite is driven:
 * every client shares PGlite's one backend session anyway, so the lock is taken on the pool itself.
 */
export async function openLockSession(sql: Db): Promise<LockSession> {
  const o = sql.options;
  if ((o?.max ?? 10) <= 1) return { conn: sql, release: async () => {} };
  const conn = oneConnectionClient(sql);
  return { conn, release: () => conn.end({ timeout: 2 }).catch(() => {}) };
}
