// A batch that fails partway must leave nothing behind, and the next runner must pick up exactly there.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { READ_MODEL_WRITER, type PostgresEventStore } from '../../eventstore/postgres.ts';
import { rebuildReadModels } from '../../projections/rebuild.ts';
import type { FaultPoint } from '../../projections/readModels.ts';
import { startProjector, type Projector } from '../../projections/runner.ts';
import { poolWithBreakableSockets } from '../support/breakableSockets.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';
import { dumpReadModels, eventLogOrder, readWholeLog, storeOn, waitFor } from './support.ts';
import { runMixedWorkload } from './workload.ts';

let db: TestDatabase;
let store: PostgresEventStore;
const running: Projector[] = [];

// One log for every case (opening a database is the slow part); each case starts from empty read models.
beforeAll(async () => {
  db = await openTestDatabase({ migrate: true });
  store = storeOn(db);
  await runMixedWorkload(store, { routine: 6 });
}, 120_000);

beforeEach(async () => {
  await db.sql`truncate event_log, incident_board, unit_board`;
  await db.sql`delete from projection_checkpoints`;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await store?.close();
  await db?.close();
});

function start(options: Partial<Parameters<typeof startProjector>[0]> = {}): Projector {
  const projector = startProjector({ store, sql: db.sql, batchSize: 20, lockRetryMs: 50, heartbeatMs: 50, retryDelayMs: 20, ...options });
  running.push(projector);
  return projector;
}

async function checkpointSeq(): Promise<number> {
  const [row] = await db.sql<{ seq: string }[]>`select seq::text as seq from projection_checkpoints where projection = 'read-models'`;
  return Number(row?.seq ?? 0);
}

async function expectExactlyOnceAndEqualToRebuild() {
  const log = await readWholeLog(store);
  const { ids, seqs } = await eventLogOrder(db.sql);
  expect(ids).toEqual(log.map((e) => e.id));
  expect(seqs).toEqual(log.map((_, i) => i + 1));
  expect(await checkpointSeq()).toBe(log.length);
  const live = await dumpReadModels(db.sql);
  await rebuildReadModels({ store, sql: db.sql, batchSize: 1000 });
  expect(await dumpReadModels(db.sql)).toEqual(live);
}

/** Fails every batch from the third on, at `stage` (for 'event': after the 5th event has been folded). */
function faultFrom(stage: FaultPoint['stage'], failures: { count: number }) {
  let batch = 0;
  return (point: FaultPoint) => {
    if (point.stage === 'event' && point.index === 0) batch += 1;
    const due = point.stage === 'event' ? point.index === 5 : point.stage === stage;
    if (batch >= 3 && due) {
      failures.count += 1;
      throw new Error(`injected fault at ${stage} in batch ${batch}`);
    }
  };
}

describe('a projector that crashes mid-batch', () => {
  for (const stage of ['event', 'event_log', 'incident_board', 'unit_board', 'checkpoint'] as const) {
    it(`leaves only whole batches behind when failing at ${stage}; the next runner resumes exactly there`, async () => {
      const failures = { count: 0 };
      const first = start({ fault: faultFrom(stage, failures) });
      await first.ready;
      await waitFor(() => failures.count >= 2, 20_000, 'the injected fault');
      await first.stop();

      // Two whole batches of 20 made it; the third never did, however far it got.
      expect(await checkpointSeq()).toBe(40);
      const { ids, seqs } = await eventLogOrder(db.sql);
      expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(new Set(ids).size).toBe(40);
      const [{ behind }] = (await db.sql`
        select (select count(*) from incident_board where last_seq > 40) + (select count(*) from unit_board where last_seq > 40) as behind`) as unknown as [{ behind: string }];
      expect(Number(behind)).toBe(0);

      const second = start();
      await second.ready;
      await second.settle(30_000);
      await expectExactlyOnceAndEqualToRebuild();
    });
  }

  it.runIf(process.env.DATABASE_URL)('writes nothing outside its transaction when its connection is lost between BEGIN and the writes', async () => {
    // PostgreSQL terminates the batch's backend while it is being folded. The driver opens a new connection for any
    // statement sent after it took in the close; the batch's writes must not go there, where each would commit on its
    // own. Seen from another connection while the batch is at its event_log step, its rows must not be there yet.
    let terminated = false;
    const visibleAtEventLog: number[] = [];
    const projector = start({
      fault: async (point) => {
        if (point.stage === 'event' && point.index === 0 && !terminated) {
          terminated = true;
          const [{ n }] = (await db.sql`
            select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity
              where datname = current_database() and application_name = ${READ_MODEL_WRITER} and pid <> pg_backend_pid()) t`) as unknown as [{ n: number }];
          expect(n).toBe(1);
          // Time for the driver to take in the close.
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        if (point.stage === 'event_log') {
          const [{ n }] = (await db.sql`select count(*)::int as n from event_log`) as unknown as [{ n: number }];
          visibleAtEventLog.push(n);
        }
      },
    });
    await projector.ready;
    await projector.settle(30_000);
    expect(terminated).toBe(true);
    // The first batch (20 events) never got to write; its retry, in a transaction of its own, shows nothing until it
    // commits, and each later batch shows only the ones before it.
    expect(visibleAtEventLog[0]).toBe(0);
    expect(visibleAtEventLog).toEqual(visibleAtEventLog.map((_, i) => i * 20));
    await expectExactlyOnceAndEqualToRebuild();
  });

  it.runIf(process.env.DATABASE_URL).each([
    // A failed connection is known at once: the batch must not wait for the transaction timeout (a minute here).
    { how: 'reset' as const, what: 'fails', timeoutMs: 60_000 },
    // A silent one is known only by that timeout (2 s here).
    { how: 'silence' as const, what: 'stops answering', timeoutMs: 2_000 },
  ])('carries on promptly when its batch connection $what mid-batch', async ({ how, timeoutMs }) => {
    // The driver never answers a statement sent on a connection between its error and its close, so a batch that
    // rolled back on the connection that had just failed would wait out the whole transaction timeout before its
    // retry.
    const breakable = poolWithBreakableSockets(db);
    try {
      const projector = start({ sql: breakable.sql, transactionTimeoutMs: timeoutMs });
      await projector.ready;
      await projector.settle(30_000);
      const [writer] = await db.sql<Array<{ port: number }>>`
        select client_port as port from pg_stat_activity where datname = current_database() and application_name = ${READ_MODEL_WRITER}`;
      breakable.breakOnNextWrite(writer!.port, how); // the next batch's BEGIN and reads
      await runMixedWorkload(store, { routine: 1 });
      await projector.settle(10_000);
      await expectExactlyOnceAndEqualToRebuild();
    } finally {
      await Promise.all(running.splice(0).map((p) => p.stop()));
      await breakable.sql.end({ timeout: 1 });
    }
  });

  it('recovers by itself from a transient failure, without applying anything twice', async () => {
    let failed = 0;
    const projector = start({
      fault: (point) => {
        if (point.stage === 'unit_board' && failed < 3) {
          failed += 1;
          throw new Error('transient');
        }
      },
    });
    await projector.ready;
    await projector.settle(30_000);
    expect(failed).toBe(3);
    await expectExactlyOnceAndEqualToRebuild();
  });

  it('skips an event already in event_log instead of applying it again', async () => {
    const projector = start();
    await projector.ready;
    await projector.settle(30_000);
    await projector.stop();
    // A checkpoint restored from before the last batches (say, an older backup of one table): the store redelivers.
    const log = await readWholeLog(store);
    const back = log.length - 25;
    await db.sql`update projection_checkpoints set position = ${log[back - 1]!.position}, seq = ${back} where projection = 'read-models'`;
    const again = start();
    await again.ready;
    await again.settle(30_000);
    expect(again.seq()).toBe(log.length);
    await expectExactlyOnceAndEqualToRebuild();
  });

  it('a batch folded from remembered rows meets a redelivered event, and applies the batch the careful way, once', async () => {
    const log = await readWholeLog(store);
    // A store that, once the projector has seen its first 30 events, delivers the 30th again with the next batch.
    let delivered = 0;
    let last: (typeof log)[number] | undefined;
    const redelivering: typeof store = Object.create(store);
    redelivering.subscribe = (options, handler) =>
      store.subscribe(options, async (batch) => {
        const again = delivered >= 30 && last && !batch.some((e) => e.id === last!.id) && delivered < 31 ? [last] : [];
        delivered += batch.length;
        last = batch.at(-1);
        await handler([...again, ...batch]);
      });
    const projector = start({ store: redelivering, batchSize: 10 });
    await projector.ready;
    await projector.settle(30_000);
    expect(delivered).toBeGreaterThan(30);
    await expectExactlyOnceAndEqualToRebuild();
  });

  it('a batch folded from remembered rows writes nothing when another projector has moved the checkpoint', async () => {
    const projector = start();
    await projector.ready;
    await projector.settle(30_000);
    const before = await checkpointSeq();
    // Another writer moved the checkpoint on (as a projector that took the lock over would); this one still remembers.
    await db.sql`update projection_checkpoints set seq = seq + 1000 where projection = 'read-models'`;
    const w = await runMixedWorkload(store, { routine: 1 });
    expect(w).toBeDefined();
    const log = await readWholeLog(store);
    await waitFor(async () => (await checkpointSeq()) >= before + 1000 + (log.length - before), 30_000, 'the projector to carry on from the moved checkpoint');
    // Nothing was written under the old numbering: the first batch after the move was rolled back by the fence.
    const [stale] = await db.sql<{ n: number }[]>`select count(*)::int as n from event_log where seq > ${before} and seq <= ${before + 1000}`;
    expect(stale!.n).toBe(0);
    const { ids } = await eventLogOrder(db.sql);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(log.map((e) => e.id));
  });
});
