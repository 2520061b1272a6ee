import postgres from 'postgres';
import { connectEmbedded, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded.ts';
import { EventStoreDBEventStore } from './eventstoredb.ts';
import { migrate } from './migrate.ts';
import type { EventStore } from './port.ts';
import { PostgresEventStore } from './postgres.ts';

export interface StoreConfig {
  /** PostgreSQL for events (unless eventstoreUrl is set) and for read models. */
  databaseUrl?: string;
  /** EventStoreDB connection string, e.g. esdb://localhost:2113?tls=false. */
  eventstoreUrl?: string;
  /** Where the embedded PGlite keeps its files when no databaseUrl is given (default ./data). */
  dataDir?: string;
  /** Embedded PGlite in memory: nothing survives close(). Wins over dataDir. */
  inMemory?: boolean;
  /** How often caught-up subscriptions look for events nobody announced. */
  pollIntervalMs?: number;
  /** Connections to the databaseUrl server (DATABASE_POOL_MAX; postgres.js's default is 10). */
  poolMax?: number;
}

export type StoreKind = 'postgres' | 'embedded' | 'eventstoredb';

export interface ConnectedStore {
  store: EventStore;
  /** Read models always live in PostgreSQL: the DATABASE_URL server, else the embedded PGlite. */
  sql: postgres.Sql;
  kind: StoreKind;
  /** Set when the embedded PGlite is running in this process. */
  embedded?: EmbeddedPostgres;
  close(): Promise<void>;
}

/** Reads the store configuration from the environment (EVENTSTORE_URL, DATABASE_URL, DATA_DIR). */
export function storeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const config: StoreConfig = {};
  if (env.EVENTSTORE_URL) config.eventstoreUrl = env.EVENTSTORE_URL;
  if (env.DATABASE_URL) config.databaseUrl = env.DATABASE_URL;
  if (env.DATA_DIR) config.dataDir = env.DATA_DIR;
  if (env.DATABASE_POOL_MAX) {
    const max = Number(env.DATABASE_POOL_MAX);
    if (!Number.isInteger(max) || max < 1) throw new Error(`DATABASE_POOL_MAX must be a whole number of connections, at least 1; got ${JSON.stringify(env.DATABASE_POOL_MAX)}`);
    config.poolMax = max;
  }
  return config;
}

/**
 * Opens the event store the configuration asks for, in this order: EventStoreDB when eventstoreUrl is set,
 * PostgreSQL when databaseUrl is set, else PGlite embedded in this process. Migrations are applied
 * before it returns.
 */
export async function connectStore(config: StoreConfig = storeConfigFromEnv()): Promise<ConnectedStore> {
  let embedded: EmbeddedPostgres | undefined;
  let sql: postgres.Sql;
  if (config.databaseUrl) {
    sql = postgres(config.databaseUrl, { onnotice: () => {}, ...(config.poolMax !== undefined && { max: config.poolMax }) });
  } else {
    embedded = await startEmbeddedPostgres(config.inMemory ? {} : { dataDir: config.dataDir ?? './data' });
    sql = connectEmbedded(embedded.url);
  }

  let store: EventStore | undefined;
  const close = async () => {
    await store?.close();
    await sql.end({ timeout: 5 });
    await embedded?.close();
  };
  try {
    await migrate(sql);
    const pollIntervalMs = config.pollIntervalMs ?? 500;
    let kind: StoreKind;
    if (config.eventstoreUrl) {
      store = EventStoreDBEventStore.connect(config.eventstoreUrl);
      kind = 'eventstoredb';
    } else if (embedded) {
      store = new PostgresEventStore(sql, { name: 'embedded', listen: false, pollIntervalMs });
      kind = 'embedded';
    } else {
      store = new PostgresEventStore(sql, { name: 'postgres', listen: true, pollIntervalMs });
      kind = 'postgres';
    }
    return { store, sql, kind, ...(embedded && { embedded }), close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
