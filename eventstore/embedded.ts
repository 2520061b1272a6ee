import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';

export interface EmbeddedPostgresOptions {
  /** Where the database lives on disk; in memory (gone on close) when undefined. */
  dataDir?: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Socket connections the server accepts. Its own default, 1, turns a second client away (postgres.js then hangs). */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** postgres:// URL of the socket server; connect with embeddedSqlOptions. */
  url: string;
  host: string;
  port: number;
  db: PGlite;
  close(): Promise<void>;
}

/**
 * postgres.js options for PGlite's socket server, which runs one protocol *message* at a time from
 * whichever connection sent it and keeps other connections out only while an explicit transaction is open:
 *
 * - `max: 1`. With two connections, messages of two queries interleave — measured: after a transaction
 *   ends, the queries that queued behind it run as Bind(A), Bind(B), Execute(A)… and fail with
 *   'portal "" does not exist', or run in each other's implicit transaction. One connection cannot
 *   interleave with itself; postgres.js still pipelines on it, and PGlite is single-threaded anyway.
 *   Consequence: never hold a reserved connection (sql.reserve()) for long on an embedded database.
 * - `prepare: true`. Unprepared queries with parameters go Parse/Describe, then Bind/Execute after a round
 *   trip; another client's Parse in between replaces the unnamed statement ("bind message supplies 1
 *   parameters, but prepared statement "" requires 3" — measured with two connections). Named statements
 *   survive it, and skip a round trip besides.
 * - `ssl: false`: the server answers the SSL request with "N" and speaks plain TCP only.
 * - `onnotice` silenced: NOTICEs are routine (e.g. "relation already exists, skipping").
 * NOTIFY is not delivered to LISTEN across the socket, so stores on it run with `listen: false`. The server
 * still accepts several connections (maxConnections) so that a second client, such as psql while debugging,
 * can connect at all; its queries may interleave with the application's as described above.
 */
export const embeddedSqlOptions = {
  max: 1,
  prepare: true,
  ssl: false,
  idle_timeout: 0,
  connect_timeout: 10,
  onnotice: () => {},
} satisfies postgres.Options<Record<string, postgres.PostgresType>>;

const DEFAULT_MAX_CONNECTIONS = 32;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  let dataDir: string | undefined;
  if (options.dataDir !== undefined) {
    dataDir = resolve(options.dataDir);
    mkdirSync(dataDir, { recursive: true });
  }
  const db = await PGlite.create(dataDir);
  const host = options.host ?? '127.0.0.1';
  const server = new PGLiteSocketServer({
    db,
    host,
    port: options.port ?? 0,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const address = server.getServerConn();
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  let closing: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    host,
    port,
    db,
    close: () =>
      (closing ??= (async () => {
        await server.stop();
        await db.close();
      })()),
  };
}

/** A postgres.js client for an embedded server, with the options it needs. */
export function connectEmbedded(url: string, overrides: postgres.Options<Record<string, postgres.PostgresType>> = {}) {
  return postgres(url, { ...embeddedSqlOptions, ...overrides });
}
