import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { connectStore, storeConfigFromEnv } from '../../eventstore/connect.ts';
import { eventIdFor } from '../../eventstore/eventIds.ts';
import type { EventToAppend, RecordedEvent } from '../../eventstore/port.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import { openTestDatabase } from '../support/db.ts';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('connectStore', () => {
  it('reads EVENTSTORE_URL, DATABASE_URL and DATA_DIR from the environment', () => {
    expect(storeConfigFromEnv({ DATABASE_URL: 'postgres://db/x', DATA_DIR: '/tmp/d' })).toEqual({
      databaseUrl: 'postgres://db/x',
      dataDir: '/tmp/d',
    });
    expect(storeConfigFromEnv({ EVENTSTORE_URL: 'esdb://es:2113?tls=false' })).toEqual({ eventstoreUrl: 'esdb://es:2113?tls=false' });
    expect(storeConfigFromEnv({})).toEqual({});
  });

  it('runs embedded PGlite when no server is configured, with migrations applied and read models beside the events', async () => {
    const connected = await connectStore({ inMemory: true });
    try {
      expect(connected.kind).toBe('embedded');
      expect(connected.store.name).toBe('embedded');
      await connected.store.append('incident-1', [event('incident-1', 0)], 'no_stream');
      const [row] = await connected.sql<{ n: string }[]>`select count(*) as n from events`;
      expect(row?.n).toBe('1');
    } finally {
      await connected.close();
    }
  });

  it('keeps the embedded database in dataDir across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cbd-data-'));
    folders.push(dataDir);
    const first = await connectStore({ dataDir });
    await first.store.append('incident-7', [event('incident-7', 0), event('incident-7', 1)], 'no_stream');
    await first.close();

    const second = await connectStore({ dataDir });
    try {
      expect((await second.store.readStream('incident-7')).map((e) => e.revision)).toEqual([0n, 1n]);
      await expect(second.store.append('incident-7', [event('incident-7', 2)], 1n)).resolves.toMatchObject({ nextRevision: 2n });
    } finally {
      await second.close();
    }
  });

  it('wakes a subscription in the appending process at once, without waiting for the poll', async () => {
    const connected = await connectStore({ inMemory: true, pollIntervalMs: 600_000 });
    const seen: RecordedEvent[] = [];
    const subscription = connected.store.subscribe({}, async (batch) => {
      seen.push(...batch);
    });
    try {
      // Let it catch up and go to sleep first: only a wake-up can bring the next event in time.
      await sleep(200);
      await connected.store.append('unit-1', [event('unit-1', 0)], 'no_stream');
      await waitFor(() => seen.length === 1);
    } finally {
      await subscription.close();
      await connected.close();
    }
  });

  describe.runIf(process.env.DATABASE_URL)('with DATABASE_URL', () => {
    it('uses PostgreSQL for events and read models', async () => {
      const db = await openTestDatabase({ kind: 'postgres' });
      const connected = await connectStore({ databaseUrl: db.url });
      try {
        expect(connected.kind).toBe('postgres');
        await connected.store.append('incident-1', [event('incident-1', 0)], 'no_stream');
        expect(await db.sql`select stream_id from events`).toEqual([{ stream_id: 'incident-1' }]);
      } finally {
        await connected.close();
        await db.close();
      }
    });

    it("wakes another process's subscription through LISTEN/NOTIFY, without waiting for the poll", async () => {
      const db = await openTestDatabase({ kind: 'postgres', migrate: true });
      // Two clients and two stores: as far as PostgreSQL can tell, two processes.
      const otherSql = postgres(db.url, { onnotice: () => {} });
      const writer = new PostgresEventStore(db.sql, { listen: true, pollIntervalMs: 600_000 });
      const reader = new PostgresEventStore(otherSql, { listen: true, pollIntervalMs: 600_000 });
      const seen: RecordedEvent[] = [];
      const subscription = reader.subscribe({}, async (batch) => {
        seen.push(...batch);
      });
      try {
        // LISTEN is set up asynchronously; appends before it would only be found by the (long) poll.
        await listening(db.sql);
        await writer.append('incident-9', [event('incident-9', 0)], 'no_stream');
        await waitFor(() => seen.length === 1);
        await writer.append('incident-9', [event('incident-9', 1)], 0n);
        await waitFor(() => seen.length === 2);
      } finally {
        await subscription.close();
        await reader.close();
        await writer.close();
        await otherSql.end();
        await db.close();
      }
    });
  });
});

function event(streamId: string, index: number): EventToAppend {
  return {
    id: eventIdFor('command-1', streamId, index),
    type: 'Happened',
    data: { index },
    metadata: { actor: 'user-1' },
  };
}

/** Waits until a connection to this database has finished a LISTEN (only the reader's subscription listens here). */
async function listening(sql: postgres.Sql, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await sql`
      select 1 from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and state = 'idle' and query ilike 'listen %'`;
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error(`no LISTEN within ${timeoutMs} ms`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}
