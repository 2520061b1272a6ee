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
       and not exists (select 1 from time_travel_all s where s.stream_id = e.stream_id and s.revision = e.stream_revision)`;
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
    await db.sql`alter table time_travel_latest rename to time_travel_latest_away`;
    await runMixedWorkload(store, { routine: 2 });
    await waitFor(() => errors.length >= 2, 30_000, 'failed batches');
    await db.sql`alter table time_travel_latest_away rename to time_travel_latest`;
    await waitFor(async () => (await missing()) === 0, 30_000, 'time_travel_states to catch up after the failures');
    // Each state once: nothing of a failed batch was left half-written, nothing written twice.
    const [counts] = await db.sql<{ rows: number; distinct: number }[]>`
      select count(*)::int as rows, count(distinct (stream_id, revision))::int as distinct from time_travel_all`;
    expect(counts!.rows).toBe(counts!.distinct);
  } finally {
    await projector.stop();
  }
}, 90_000);

/** Rows whose interval does not end where the stream's next row starts (or is open with a next row), open rows, streams. */
async function brokenIntervals(): Promise<{ gaps: number; open: number; streams: number }> {
  const [row] = await db.sql<{ gaps: number; open: number; streams: number }[]>`
    select (select count(*)::int from time_travel_all a
              left join time_travel_all b on b.stream_id = a.stream_id and b.revision = a.revision + 1
             where a.valid_to is distinct from b.valid_from) as gaps,
           (select count(*)::int from time_travel_all where valid_to is null) as open,
           (select count(distinct stream_id)::int from time_travel_all) as streams`;
  return row!;
}

it(`closes every interval at its stream's next start, in a batch or across batches, redelivered or not (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, async () => {
  const projector = new TimeTravelProjector(store, db.sql);
  await projector.start();
  try {
    await runMixedWorkload(store, { routine: 3 });
    await waitFor(async () => (await missing()) === 0, 30_000, 'time_travel_states to catch up');
  } finally {
    await projector.stop();
  }
  // The latest row of each stream is open; every other one ends where the next one starts.
  const caughtUp = await brokenIntervals();
  expect(caughtUp.open).toBe(caughtUp.streams);
  expect(caughtUp.gaps).toBe(0);

  // As if the last batch had not been written: each stream's newest row gone and the one before it open again.
  // From the start of the log, the rows still there come again (skipped as already written) in the same batches
  // as the missing ones, which must close the stored open rows rather than only the ones they write themselves.
  await db.sql.begin(async (tx) => {
    const gone = await tx<{ stream_id: string; revision: string }[]>`delete from time_travel_latest returning stream_id, revision::text`;
    await tx`
      with back as (delete from time_travel_states s
                     using (select * from json_to_recordset(${JSON.stringify(gone)}::text::json) as g(stream_id text, revision bigint)) g
                     where s.stream_id = g.stream_id and s.revision = g.revision - 1
                    returning s.*)
      insert into time_travel_latest (stream_id, revision, entity, entity_id, valid_from, view)
      select stream_id, revision, entity, entity_id, valid_from, view from back`;
  });
  await db.sql`delete from projection_checkpoints where projection = 'time_travel'`;
  expect(await missing()).toBe(caughtUp.streams);
  const again = new TimeTravelProjector(store, db.sql);
  await again.start();
  try {
    await waitFor(async () => (await missing()) === 0, 30_000, 'time_travel_states to be rewritten');
    await waitFor(async () => (await brokenIntervals()).open === caughtUp.open, 30_000, 'the reopened rows to be closed');
  } finally {
    await again.stop();
  }
  expect(await brokenIntervals()).toEqual(caughtUp);
}, 90_000);
