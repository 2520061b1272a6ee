// One writer per projection across processes: an advisory lock elects it, the others wait on standby.
// On PostgreSQL each "process" gets its own pool; the embedded PGlite only works through one connection,
// so there the runners share it, which is the case where a plain session lock would not exclude anyone.
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PostgresEventStore } from '../../eventstore/postgres.ts';
import { projectionLocks } from '../../projections/lock.ts';
import { rebuildReadModels } from '../../projections/rebuild.ts';
import { startProjector, type CommittedBatch, type Projector } from '../../projections/runner.ts';
import { poolWithBreakableSockets } from '../support/breakableSockets.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';
import { dumpReadModels, eventLogOrder, readWholeLog, secondPool, storeOn, waitFor } from './support.ts';
import { Workload } from './workload.ts';

let db: TestDatabase;
let w: Workload;
const processes: Array<{ sql: postgres.Sql; store: PostgresEventStore }> = [];
const running: Projector[] = [];

/** A stand-in for another API process: its own pool and store where the database allows it. */
function anotherProcess() {
  const sql = db.kind === 'postgres' ? secondPool(db) : db.sql;
  const proc = { sql, store: storeOn(db, sql) };
  processes.push(proc);
  return proc;
}

/** Another process whose connections the test can break (see poolWithBreakableSockets). */
function processWithBreakableSockets(options: postgres.Options<{}> = {}) {
  const { sql, breakOnNextWrite } = poolWithBreakableSockets(db, options);
  const proc = { sql, store: storeOn(db, sql) };
  processes.push(proc);
  return { proc, breakOnNextWrite };
}

function start(proc: { sql: postgres.Sql; store: PostgresEventStore }, commits: CommittedBatch[], options: { lockTimeoutMs?: number } = {}): Projector {
  const projector = startProjector({ store: proc.store, sql: proc.sql, batchSize: 10, lockRetryMs: 50, heartbeatMs: 50, retryDelayMs: 20, ...options });
  projector.onCommitted((info) => commits.push(info));
  running.push(projector);
  return projector;
}

async function someTraffic(tag: string, incidents = 4) {
  for (let i = 0; i < incidents; i++) {
    const name = `${tag}-${i}`;
    await w.report(name, 'public_order', 3);
    await w.incidentCommand(name, { type: 'TriageIncident', data: {} });
    await w.assign(name, 'P1');
    await w.status(name, 'P1', 'en_route');
    await w.status(name, 'P1', 'cleared');
    await w.incidentCommand(name, { type: 'ResolveIncident', data: {} });
  }
}

async function expectExactlyOnceAndEqualToRebuild() {
  const log = await readWholeLog(processes[0]!.store);
  const { ids, seqs } = await eventLogOrder(db.sql);
  expect(ids).toEqual(log.map((e) => e.id));
  expect(seqs).toEqual(log.map((_, i) => i + 1));
  const live = await dumpReadModels(db.sql);
  await rebuildReadModels({ store: processes[0]!.store, sql: db.sql });
  expect(await dumpReadModels(db.sql)).toEqual(live);
}

beforeAll(async () => {
  db = await openTestDatabase({ migrate: true });
}, 120_000);

beforeEach(async () => {
  const writer = anotherProcess();
  w = new Workload(writer.store);
  await w.registerUnit(`P1`, 'police', 'patrol_car', 27.1, 114.9);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  for (const proc of processes.splice(0)) {
    await proc.store.close();
    if (proc.sql !== db.sql) await proc.sql.end({ timeout: 5 });
  }
  await db.sql`truncate events, streams, event_log, incident_board, unit_board`;
  await db.sql`delete from projection_checkpoints`;
});

afterAll(async () => {
  await db?.close();
});

describe('two projectors on one database', () => {
  it('only one applies; when it stops the other takes over with no gap and no duplicate', async () => {
    const commitsA: CommittedBatch[] = [];
    const commitsB: CommittedBatch[] = [];
    const a = start(anotherProcess(), commitsA);
    await a.ready;
    expect(a.role()).toBe('active');
    const b = start(anotherProcess(), commitsB);
    await b.ready;
    expect(b.role()).toBe('standby');

    await someTraffic('first');
    await a.settle(30_000);
    await b.settle(30_000); // a standby settles on the checkpoint the active one writes
    expect(commitsA.length).toBeGreaterThan(0);
    expect(commitsB).toEqual([]);
    expect(b.role()).toBe('standby');
    const handedOver = a.seq();
    expect(b.seq()).toBe(handedOver);

    await a.stop();
    await waitFor(() => b.role() === 'active', 10_000, 'the standby to take over');
    await someTraffic('second');
    await b.settle(30_000);
    expect(commitsB.length).toBeGreaterThan(0);
    // B continued from A's last seq: the first batch it committed starts right after it.
    expect(commitsB[0]!.toSeq - commitsB[0]!.events).toBe(handedOver);
    await expectExactlyOnceAndEqualToRebuild();
  });

  it('a rebuild makes the live projector step aside, and it carries on from the rebuilt checkpoint', async () => {
    const commits: CommittedBatch[] = [];
    const live = start(anotherProcess(), commits);
    await live.ready;
    await someTraffic('before');
    await live.settle(30_000);

    const rebuilder = anotherProcess();
    let waited = false;
    // Writes go on during the rebuild; neither may lose or double them.
    const traffic = someTraffic('during', 3);
    const result = await rebuildReadModels({ store: rebuilder.store, sql: rebuilder.sql, batchSize: 7, pollMs: 20, onWaiting: () => (waited = true) });
    await traffic;
    expect(waited).toBe(true);
    expect(result.events).toBeGreaterThan(0);

    await waitFor(() => live.role() === 'active', 10_000, 'the live projector to come back');
    await someTraffic('after', 2);
    await live.settle(30_000);
    await expectExactlyOnceAndEqualToRebuild();
  });

  it.skipIf(!process.env.DATABASE_URL)('when the lock holder loses its session, a projector takes over without duplicates (PostgreSQL)', async () => {
    const a = start(anotherProcess(), []);
    await a.ready;
    const b = start(anotherProcess(), []);
    await b.ready;
    await someTraffic('first', 2);
    await a.settle(30_000);

    const key = projectionLocks('read-models').writer;
    const killed = await db.sql`
      select pg_terminate_backend(pid) as done from pg_locks
      where locktype = 'advisory' and objid::bigint = ${key} and objsubid = 2 and granted
        and database = (select oid from pg_database where datname = current_database())`;
    expect(killed).toEqual([{ done: true }]);

    await someTraffic('second', 3);
    await waitFor(
      async () => {
        const [row] = await db.sql`
          select count(*)::int as n from pg_locks where locktype = 'advisory' and objid::bigint = ${key} and granted
            and database = (select oid from pg_database where datname = current_database())`;
        return row!.n === 1 && [a, b].filter((p) => p.role() === 'active').length === 1;
      },
      10_000,
      'one projector to hold the lock again',
    );
    const active = a.role() === 'active' ? a : b;
    await active.settle(30_000);
    await expectExactlyOnceAndEqualToRebuild();
  });

  it.skipIf(!process.env.DATABASE_URL).each([
    { how: 'reset' as const, what: 'fails mid-statement' },
    { how: 'silence' as const, what: 'stops answering' },
  ])('when the lock connection $what, the holder steps down and stops promptly (PostgreSQL)', async ({ how }) => {
    // postgres.js leaves a statement sent on a connection between its error and its close unanswered for good, so a
    // holder that gave up its lock on the connection that just failed would never finish stepping down. A connection
    // that goes silent is given up after the lock's statement timeout (here 1 s).
    const breakable = processWithBreakableSockets();
    const a = start(breakable.proc, [], { lockTimeoutMs: 1000 });
    await a.ready;
    expect(a.role()).toBe('active');
    const b = start(anotherProcess(), []);
    await b.ready;
    await someTraffic('first', 1);
    await a.settle(30_000);

    const key = projectionLocks('read-models').writer;
    const holders = () => db.sql<Array<{ pid: number; port: number }>>`
      select a.pid, a.client_port as port from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.objid::bigint = ${key} and l.objsubid = 2 and l.granted
        and l.database = (select oid from pg_database where datname = current_database())`;
    const [holder] = await holders();
    breakable.breakOnNextWrite(holder!.port, how); // the holder's next heartbeat

    // The broken session is given up and the lock taken again, by either projector, on another session.
    await waitFor(
      async () => {
        const now = await holders();
        return now.length === 1 && now[0]!.pid !== holder!.pid && [a, b].filter((p) => p.role() === 'active').length === 1;
      },
      10_000,
      'one projector to hold the lock again on a new session',
    );
    const active = a.role() === 'active' ? a : b;
    await someTraffic('second', 2);
    await active.settle(30_000);
    await a.stop();
    await expectExactlyOnceAndEqualToRebuild();
  });

  it.skipIf(!process.env.DATABASE_URL)('a rebuild whose lock connection fails stops writing, and the live projector carries on (PostgreSQL)', async () => {
    const live = start(anotherProcess(), []);
    await live.ready;
    await someTraffic('before', 10);
    await live.settle(30_000);

    // The rebuild writes one event a transaction, so it is still writing when its lock connection fails after the first.
    const breakable = processWithBreakableSockets({ connection: { application_name: 'rebuild-under-test' } });
    const rebuildKey = projectionLocks('read-models').rebuild;
    let broken: Promise<void> | undefined;
    const rebuilding = rebuildReadModels({
      store: breakable.proc.store,
      sql: breakable.proc.sql,
      batchSize: 1,
      pollMs: 20,
      heartbeatMs: 5,
      onProgress: () => {
        broken ??= (async () => {
          const [session] = await db.sql<Array<{ port: number }>>`
            select a.client_port as port from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.objid::bigint = ${rebuildKey} and l.objsubid = 2 and l.granted
              and l.database = (select oid from pg_database where datname = current_database())`;
          breakable.breakOnNextWrite(session!.port, 'reset'); // its next heartbeat
        })();
      },
    });
    await expect(rebuilding).rejects.toMatchObject({ name: 'RebuildLockLostError', message: expect.stringMatching(/lost its lock/) });
    await broken;
    // None of its transactions is left open (the live projector's own may well be, mid-batch).
    const [{ open, all }] = (await db.sql`select count(*) filter (where state like 'idle in transaction%')::int as open, count(*)::int as all
      from pg_stat_activity where datname = current_database() and application_name = 'rebuild-under-test'`) as unknown as [{ open: number; all: number }];
    expect(all).toBeGreaterThan(0);
    expect(open).toBe(0);

    await waitFor(() => live.role() === 'active', 10_000, 'the live projector to take the lock back');
    await someTraffic('after', 2);
    await live.settle(30_000);
    await expectExactlyOnceAndEqualToRebuild();
  });
});
