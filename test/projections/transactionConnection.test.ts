// The connection projectors send their batches on: a batch that never answers is given up on, with its connection,
// and the next one gets a working connection (a projector must not wait for ever on a socket cut without a reset).
// On the embedded PGlite there is no network to lose and its one connection is only ever reserved, never abandoned.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inTransactionConnection, TransactionConnection } from '../../projections/transactionConnection.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

it.skipIf(!process.env.DATABASE_URL)('gives up on a transaction that does not answer in time, drops its connection, and the next one works (PostgreSQL)', async () => {
  const connections = new TransactionConnection(db.sql);
  try {
    let first: unknown;
    await expect(
      inTransactionConnection(
        connections,
        async (conn) => {
          first = conn;
          return new Promise<never>(() => {});
        },
        100,
      ),
    ).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const answer = await inTransactionConnection(connections, async (conn) => {
      expect(conn).not.toBe(first);
      const [row] = await conn`select 41 + 1 as n`;
      return row!.n;
    });
    expect(answer).toBe(42);
  } finally {
    await connections.close();
  }
});
