// The PostgreSQL driver (postgres.js) on a connection that fails with a statement in flight: every statement must be
// answered, the ones that could not run with an error, and the connection must serve later statements correctly.
// Driver 3.4.9 as published fails this (see patches/ and the README's dependency list).
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { poolWithBreakableSockets } from '../support/breakableSockets.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
}, 120_000);
afterAll(async () => {
  await db?.close();
});

// A rejection nothing can catch (thrown from the driver's own promises or timers) ends a server: none may happen.
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);
beforeEach(() => {
  uncaught.length = 0;
  process.on('unhandledRejection', onUncaught);
  process.on('uncaughtException', onUncaught);
});
afterEach(() => {
  process.off('unhandledRejection', onUncaught);
  process.off('uncaughtException', onUncaught);
});

/** What a statement came to within `ms`: its value, its error's code, or 'no answer'. */
function outcome<T>(statement: Promise<T>, ms = 5_000): Promise<T | string> {
  return Promise.race([
    statement.catch((error: { code?: string; message?: string }) => `error ${error.code ?? error.message}`),
    new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), ms).unref()),
  ]);
}

it.runIf(process.env.DATABASE_URL)('a statement sent as its connection fails is answered, and the connection serves the next ones', async () => {
  const breakable = poolWithBreakableSockets(db, { max: 1, fetch_types: false });
  const sql = breakable.sql;
  try {
    const [{ port }] = (await sql<Array<{ port: number }>>`select inet_client_port() as port`) as unknown as [{ port: number }];
    breakable.breakOnNextWrite(port, 'reset');
    // The caller reacts to the failure at once, as a lock holder does by giving its lock up: the driver has taken in
    // the connection's error but not yet its close.
    let followUp: Promise<unknown> = Promise.resolve();
    const first = await outcome(
      sql`select pg_sleep(0.2)`.catch((error: unknown) => {
        followUp = sql`select 'follow-up' as x`;
        throw error;
      }),
    );
    expect(first).toBe('error ECONNRESET');
    const after = await outcome(followUp);
    expect(after).not.toBe('no answer');
    const later: unknown[] = [];
    for (const n of [3, 4, 5]) later.push(await outcome(sql`select ${n}::int as x`.then((rows) => rows[0]?.x)));
    expect(later).toEqual([3, 4, 5]);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

it.runIf(process.env.DATABASE_URL).each([
  { when: 'at once', pauseMs: 0 },
  { when: 'after the connection has closed', pauseMs: 100 },
])('a transaction whose connection fails rolls back $when without ending the process, and the pool goes on', async ({ pauseMs }) => {
  const breakable = poolWithBreakableSockets(db, { max: 1, fetch_types: false });
  const sql = breakable.sql;
  try {
    const [{ port }] = (await sql<Array<{ port: number }>>`select inet_client_port() as port`) as unknown as [{ port: number }];
    const transaction = outcome(
      sql.begin(async (tx) => {
        await tx`select 1`;
        breakable.breakOnNextWrite(port, 'reset');
        try {
          await tx`select pg_sleep(0.2)`;
        } catch (error) {
          // The driver sends its ROLLBACK when this callback fails: now, or once the close has been taken in.
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
          throw error;
        }
      }),
    );
    expect(await transaction).toMatch(/^error /);
    expect(await outcome(sql`select 7::int as x`.then((rows) => rows[0]?.x))).toBe(7);
    await new Promise((resolve) => setTimeout(resolve, 100)); // time for a late write to go wrong
    expect(uncaught).toEqual([]);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

it.runIf(process.env.DATABASE_URL)('a new connection lost while fetching its array types reconnects without ending the process', async () => {
  const breakable = poolWithBreakableSockets(db, { max: 1 });
  const sql = breakable.sql;
  try {
    // Its first write is the start-up message; the second, once the server has accepted it, the fetch of array types.
    breakable.breakNextConnection('reset', 2);
    // The statement waiting for that connection fails with it (the API answers 503); the next one gets a new one.
    expect(await outcome(sql`select 8::int as x`.then((rows) => rows[0]?.x))).toBe('error ECONNRESET');
    expect(await outcome(sql`select 8::int as x`.then((rows) => rows[0]?.x))).toBe(8);
    expect(await outcome(sql`select array[1, 2]::int[] as x`.then((rows) => rows[0]?.x))).toEqual([1, 2]);
    expect(uncaught).toEqual([]);
  } finally {
    await sql.end({ timeout: 1 });
  }
});
