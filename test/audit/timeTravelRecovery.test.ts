// The time-travel read model's projector keeps going after a failure: it starts again from its checkpoint instead of
// stopping for good (a lost connection or a restarted database must not end time travel until the next deploy).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TimeTravelProjector } from '../../api/audit/timeTravel.ts';
import { migrate } from '../../eventstore/migrate.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../projections/support.ts';
import { runMixedWorkload } from '../projections/workload.ts';

let db: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await openTestDatabase();
  await migrate(db.sql);
  store = new PostgresEventStore(db.sql, { listen: false, pollIntervalMs: 25 });
});
afterAll(async () => {
  await store?.close();
  await db?.close();
});

async function missing(): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from events e
     where (starts_with(e.stream_id, 'incident-') or starts_with(e.stream_id, 'unit-'))
       and not exists (select 1 from time_travel_states s where s.stream_id = e.stream_id and s.revision = e.stream_revision)`;
  return row!.n;
}

it(`starts again from its checkpoint after a batch fails, and catches up (${process.env.DATABASE_URL ? "postgres" : "pglite"})`, async () => {
  const errors: unknown[] = [];
  const projector = new TimeTravelProjector(store, db.sql, (error) => errors.push(error));
  await projector.start();
  try {
    await runMixedWorkload(store, { routine: 2 });
    await waitFor(async () => (await missing()) === 0, 30_000, 'the first events in time_travel_states');
    // Its table is out of reach for a while: every batch fails.
    await db.sql`alter table time_travel_states rename to time_travel_states_away`;
    await runMixedWorkload(store, { routine: 2 });
    await waitFor(() => errors.length >= 2, 30_000, 'failed batches');
    await db.sql`alter table time_travel_states_away rename to time_travel_states`;
    await waitFor(async () => (await missing()) === 0, 30_000, 'time_travel_states to catch up after the failures');
    // Each state once: nothing of a failed batch was left half-written, nothing written twice.
    const [counts] = await db.sql<{ rows: number; distinct: number }[]>`
      select count(*)::int as rows, count(distinct (stream_id, revision))::int as distinct from time_travel_states`;
    expect(counts!.rows).toBe(counts!.distinct);
  } finally {
    await projector.stop();
  }
}, 90_000);
