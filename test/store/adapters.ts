import { EventStoreDBEventStore } from '../../eventstore/eventstoredb.ts';
import { migrate } from '../../eventstore/migrate.ts';
import type { AppendResult, EventStore, EventToAppend, ExpectedRevision } from '../../eventstore/port.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import { openTestDatabase, type StoreAdapterKind } from '../support/db.ts';

export type AppendWithin = (streamId: string, events: EventToAppend[], expected: ExpectedRevision) => Promise<AppendResult>;

export interface StoreUnderTest {
  kind: StoreAdapterKind;
  store: EventStore;
  /** How long a caught-up subscription may take to notice an event nobody announced. */
  pollIntervalMs: number;
  /** PostgreSQL and PGlite: lets a test hold an append's transaction open. */
  transactions?: {
    /**
     * True on PostgreSQL, where another transaction commits while this one is open. PGlite's socket
     * server runs transactions one after another, so there the other one waits.
     */
    concurrent: boolean;
    begin<T>(body: (appendWithin: AppendWithin) => Promise<T>): Promise<T>;
  };
  /** EventStoreDB deduplicates ids per stream only, so an id reused on another stream goes unnoticed there. */
  detectsIdsReusedAcrossStreams: boolean;
  close(): Promise<void>;
}

const POLL_MS = 50;

export async function openStoreUnderTest(kind: StoreAdapterKind): Promise<StoreUnderTest> {
  if (kind === 'eventstoredb') {
    const url = process.env.EVENTSTORE_URL;
    if (!url) throw new Error('EVENTSTORE_URL is not set');
    const store = EventStoreDBEventStore.connect(url);
    return {
      kind,
      store,
      pollIntervalMs: POLL_MS,
      detectsIdsReusedAcrossStreams: false,
      close: () => store.close(),
    };
  }
  const db = await openTestDatabase({ kind });
  await migrate(db.sql);
  // PGlite never delivers NOTIFY across its socket; PostgreSQL runs with LISTEN/NOTIFY as in production.
  const store = new PostgresEventStore(db.sql, { name: kind, listen: kind === 'postgres', pollIntervalMs: POLL_MS });
  return {
    kind,
    store,
    pollIntervalMs: POLL_MS,
    transactions: {
      concurrent: kind === 'postgres',
      begin: (body) => db.sql.begin((tx) => body((streamId, events, expected) => store.appendWithin(tx, streamId, events, expected))) as never,
    },
    detectsIdsReusedAcrossStreams: true,
    close: async () => {
      await store.close();
      await db.close();
    },
  };
}
