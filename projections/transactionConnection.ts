// The connections projectors send whole transactions on, as one pipeline of statements, and the one-connection
// clients that lock sessions and those transactions live on.
import postgres from 'postgres';
import { isDatabaseUnreachable } from '../eventstore/connectionFailure.ts';
import { READ_MODEL_WRITER } from '../eventstore/postgres.ts';
import type { Db } from './readModels.ts';

/**
 * A client of one connection to the same database as `sql`: a session of its own that reconnects when it is lost.
 * Made as postgres.js makes its own LISTEN connection: the pool's options, its array types included, so the new
 * connection need not fetch them (a fetch its driver cannot report if the connection dies meanwhile).
 * `applicationName` labels the connection on the server (see READ_MODEL_WRITER).
 */
export function oneConnectionClient(sql: Db, applicationName?: string, onclose?: () => void): Db {
  const options = sql.options as unknown as postgres.Options<{}>;
  return postgres({
    ...options,
    ...(applicationName !== undefined && { connection: { ...options.connection, application_name: applicationName } }),
    // Called as the driver takes in that its connection closed, before a statement sent after that opens another.
    ...(onclose !== undefined && { onclose }),
    onnotice: () => {},
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
  } as unknown as postgres.Options<{}>) as unknown as Db;
}

/**
 * A connection for whole transactions sent as one pipeline (BEGIN, statements, COMMIT), held for one transaction at
 * a time. On a server, a one-connection client of its own, kept between transactions: not `sql.reserve()`, which
 * postgres.js hangs when its backend is terminated (see openLockSession in lock.ts). On the embedded PGlite, driven through a
 * single connection that everyone shares, that connection reserved for the transaction (what sql.begin does).
 */
export class TransactionConnection {
  private own: Db | undefined;
  /** How many times a connection of this object's has closed. */
  private closes = 0;

  constructor(private readonly sql: Db) {}

  /**
   * `abandonable`: the connection is this object's own and can be dropped if it stops answering. A reserved one (the
   * embedded PGlite, in this process, with no network to lose) must be released, never abandoned mid-transaction.
   * `lost()`: whether the connection has closed since; see TransactionSession.
   */
  async acquire(): Promise<{ conn: Db; release: () => void; abandonable: boolean; lost: () => boolean }> {
    if ((this.sql.options?.max ?? 10) <= 1) {
      const reserved = await this.sql.reserve();
      return { conn: reserved as unknown as Db, release: () => reserved.release(), abandonable: false, lost: () => false };
    }
    // Labelled a read-model writer: its transactions never append, so the log's horizon does not wait for them.
    this.own ??= oneConnectionClient(this.sql, READ_MODEL_WRITER, () => {
      this.closes += 1;
    });
    const closesAtStart = this.closes;
    return { conn: this.own, release: () => {}, abandonable: true, lost: () => this.closes !== closesAtStart };
  }

  async close(): Promise<void> {
    const own = this.own;
    this.own = undefined;
    await own?.end({ timeout: 2 }).catch(() => {});
  }

  /** Drops a connection that stopped answering (its socket is closed at once); the next transaction opens another. */
  discard(): void {
    const own = this.own;
    this.own = undefined;
    own?.end({ timeout: 0 }).catch(() => {});
  }
}

/**
 * A transaction sent in more than one round trip (BEGIN and reads, then writes and COMMIT) must not lose its
 * connection in between. The one-connection client opens a new connection for a statement sent after the old one
 * closed, and there the writes would run outside any transaction, each committed on its own, the checkpoint's too
 * (its check that it has not moved still passes). Then one that failed leaves its events behind the checkpoint for
 * good. `assertUnbroken()`, called in the same turn of the event loop as the writes are sent, throws if the connection
 * has closed since the transaction began. Statements sent while the driver has not yet taken in a close go to the old
 * connection, and fail with it.
 */
export interface TransactionSession {
  assertUnbroken(): void;
  /**
   * Ends a transaction that failed with `error`: ROLLBACK on a connection that still works. One that failed is
   * dropped instead, and the server rolls back what it had. The published postgres.js 3.4.9 never answered a
   * statement sent on a connection between its error and its close, so a ROLLBACK there waited out the whole timeout;
   * patches/ mends the driver, and nothing here relies on that.
   */
  rollbackAfter(error: unknown): Promise<void>;
}

/** A transaction that has not answered within this is given up on, and its connection with it. */
export const TRANSACTION_TIMEOUT_MS = 20_000;

/**
 * Runs `work` on a connection from `connections`, giving up after `timeoutMs`: a connection cut from the server
 * without a reset can leave a query unanswered for good (postgres.js does not always notice), and a projector
 * waiting on it would stop for good. Given up on, the connection is dropped; if the transaction still commits after
 * all, the checkpoint it moves fences off the retry (and the other way round).
 */
export async function inTransactionConnection<T>(
  connections: TransactionConnection,
  work: (conn: Db, session: TransactionSession) => Promise<T>,
  timeoutMs = TRANSACTION_TIMEOUT_MS,
): Promise<T> {
  const { conn, release, abandonable, lost } = await connections.acquire();
  const session: TransactionSession = {
    assertUnbroken: () => {
      if (lost()) throw Object.assign(new Error('the connection to the database closed in the middle of a projection batch'), { code: 'CONNECTION_CLOSED' });
    },
    rollbackAfter: async (error) => {
      if (abandonable && isDatabaseUnreachable(error)) return connections.discard();
      await conn.unsafe('rollback').catch(() => {});
    },
  };
  if (!abandonable) {
    try {
      return await work(conn, session);
    } finally {
      release();
    }
  }
  try {
    return await answeredWithin(work(conn, session), timeoutMs, () => {
      connections.discard();
      return Object.assign(new Error(`the database did not answer a projection batch within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
    });
  } finally {
    release();
  }
}

/**
 * `work`'s outcome, or the error `unanswered()` makes once `ms` have passed without one (a statement on a connection
 * cut without a reset may never be answered). `work` is left to settle on its own, its failure unobserved.
 */
export async function answeredWithin<T>(work: Promise<T>, ms: number, unanswered: () => Error): Promise<T> {
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unanswered()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
