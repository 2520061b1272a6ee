import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connectEmbedded, startEmbeddedPostgres } from '../../eventstore/embedded.ts';
import { migrate as applyMigrations } from '../../eventstore/migrate.ts';

export interface TestDatabase {
  url: string;
  sql: postgres.Sql;
  /** 'postgres': a fresh database on the DATABASE_URL server; 'pglite': an in-memory embedded PGlite. */
  kind: 'postgres' | 'pglite';
  /** Ends the connections and drops the database. */
  close(): Promise<void>;
}

export interface OpenTestDatabaseOptions {
  /** Apply migrations/ before returning (default false: suites that test migrations start empty). */
  migrate?: boolean;
  /** Force one engine; by default PostgreSQL when DATABASE_URL is set, else PGlite. */
  kind?: 'postgres' | 'pglite';
}

/**
 * A database of its own for one suite: a new `cbd_test_<random>` database when DATABASE_URL is set (so
 * suites running in parallel never see each other's rows), else an in-memory PGlite behind its socket server.
 */
export async function openTestDatabase(options: OpenTestDatabaseOptions = {}): Promise<TestDatabase> {
  const kind = options.kind ?? (process.env.DATABASE_URL ? 'postgres' : 'pglite');
  let db: TestDatabase;
  if (kind === 'postgres') {
    if (!process.env.DATABASE_URL) throw new Error('a PostgreSQL test database needs DATABASE_URL');
    db = await freshPostgresDatabase(process.env.DATABASE_URL);
  } else {
    db = await freshPglite();
  }
  if (options.migrate) {
    try {
      await applyMigrations(db.sql);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  return db;
}

async function freshPostgresDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `cbd_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { onnotice: () => {} });
  let closing: Promise<void> | undefined;
  return {
    url: url.toString(),
    sql,
    kind: 'postgres',
    close: () =>
      (closing ??= (async () => {
        await sql.end({ timeout: 5 });
        try {
          // FORCE: a connection a failed test left behind must not keep the database alive.
          await admin.unsafe(`drop database if exists ${name} with (force)`);
        } finally {
          await admin.end({ timeout: 5 });
        }
      })()),
  };
}

async function freshPglite(): Promise<TestDatabase> {
  const embedded = await startEmbeddedPostgres();
  const sql = connectEmbedded(embedded.url);
  let closing: Promise<void> | undefined;
  return {
    url: embedded.url,
    sql,
    kind: 'pglite',
    close: () =>
      (closing ??= (async () => {
        await sql.end({ timeout: 5 });
        await embedded.close();
      })()),
  };
}

export type StoreAdapterKind = 'pglite' | 'postgres' | 'eventstoredb';

export interface StoreTarget {
  kind: StoreAdapterKind;
  /** Human name for test titles. */
  title: string;
  reachable: boolean;
  /** Why the adapter is not run here, when it is not. */
  reason?: string;
}

/**
 * Which event store adapters this machine can run: PGlite always, PostgreSQL with DATABASE_URL,
 * EventStoreDB with EVENTSTORE_URL. Suites must show skipped ones visibly (see describeSkipped).
 */
export function reachableStores(env: NodeJS.ProcessEnv = process.env): StoreTarget[] {
  return [
    { kind: 'pglite', title: 'embedded PGlite', reachable: true },
    env.DATABASE_URL
      ? { kind: 'postgres', title: 'PostgreSQL', reachable: true }
      : { kind: 'postgres', title: 'PostgreSQL', reachable: false, reason: 'DATABASE_URL not set' },
    env.EVENTSTORE_URL
      ? { kind: 'eventstoredb', title: 'EventStoreDB', reachable: true }
      : { kind: 'eventstoredb', title: 'EventStoreDB', reachable: false, reason: 'EVENTSTORE_URL not set' },
  ];
}
