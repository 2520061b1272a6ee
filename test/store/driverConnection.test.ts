// The PostgreSQL driver (postgres.js) on a connection that fails with a statement in flight: every statement must be
// answered, the ones that could not run with an error, and the connection must serve later statements correctly.
// Driver 3.4.9 as published fails this (see patches/ and the README's dependency list).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { poolWithBreakableSockets } from '../support/breakableSockets.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
}, 120_000);
afterAll(async () => {
  await db?.close();
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
    const [{ port }] = await sql<Array<{ port: number }>>`select inet_client_port() as port`;
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
