// The log's horizon (LOG_HORIZON in eventstore/postgres.ts): readers of the global log stop below the oldest
// transaction that may still be appending. The projectors' transaction connections are labelled read-model writers:
// their open transactions do not hold the log back, and the log refuses their appends. Nor do transactions of other
// databases on the same server, which cannot append to this one's log. Concurrent transactions need
// the real PostgreSQL (DATABASE_URL); the refusal is checked on PGlite too.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logAfter } from '../../api/audit/checkpoints.ts';
import { eventIdFor, newId } from '../../eventstore/eventIds.ts';
import { migrate } from '../../eventstore/migrate.ts';
import type { EventToAppend } from '../../eventstore/port.ts';
import { PostgresEventStore, READ_MODEL_WRITER } from '../../eventstore/postgres.ts';
import { TransactionConnection } from '../../projections/transactionConnection.ts';
import { openTestDatabase, reachableStores, type TestDatabase } from '../support/db.ts';
import { readAllSettled } from '../support/settledLog.ts';

const event = (stream: string): EventToAppend => {
  const command = newId();
  return { id: eventIdFor(command, stream, 0), type: 'NoteAdded', data: { text: 'x' }, metadata: { actor: 'tester', commandId: command } };
};

/** Runs `body` while `open` holds a write transaction open on `client`; the transaction commits afterwards. */
async function whileWriting<T>(client: postgres.Sql, body: () => Promise<T>): Promise<T> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => (wrote = resolve));
  const transaction = client.begin(async (tx) => {
    await tx`insert into horizon_scratch (note) values ('open')`;
    wrote();
    await gate;
  });
  await written;
  try {
    return await body();
  } finally {
    release();
    await transaction;
  }
}

/** Polls `read` until the assertion holds: any other transaction open in the suite's database can delay it a moment. */
const settles = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 20_000, interval: 20 });

async function logIds(sql: postgres.Sql): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of logAfter(sql, undefined)) ids.push(...page.map((r) => r.id));
  return ids;
}

for (const target of reachableStores().filter((t) => t.kind !== 'eventstoredb' && t.reachable)) {
  describe(`the log's horizon (${target.title})`, () => {
    let db: TestDatabase;
    let store: PostgresEventStore;

    beforeAll(async () => {
      db = await openTestDatabase({ kind: target.kind as 'postgres' | 'pglite' });
      await migrate(db.sql);
      await db.sql`create table horizon_scratch (note text)`;
      store = new PostgresEventStore(db.sql, { listen: false });
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
    });

    it("refuses an append from a read-model writer's connection, and writes nothing", async () => {
      const stream = `note-${newId()}`;
      const before = await db.sql`select count(*)::int as n from events`;
      const attempt = db.sql.begin(async (tx) => {
        await tx.unsafe(`set local application_name = '${READ_MODEL_WRITER}'`);
        await store.appendWithin(tx, stream, [event(stream)], 'no_stream');
      });
      await expect(attempt).rejects.toThrow(/read-model writer's connection must not append events/);
      expect(await db.sql`select count(*)::int as n from events`).toEqual(before);
      expect(await store.readStream(stream)).toEqual([]);
      // The same connection appends once it no longer carries the label.
      expect((await store.append(stream, [event(stream)], 'no_stream')).written).toBe(true);
    });

    it.skipIf(target.kind !== 'postgres')("a projector's open write transaction does not hold the log back", async () => {
      const connections = new TransactionConnection(db.sql);
      try {
        const { conn } = await connections.acquire();
        const [label] = await conn<{ name: string }[]>`select current_setting('application_name') as name`;
        expect(label?.name).toBe(READ_MODEL_WRITER);
        const stream = `note-${newId()}`;
        const appended = event(stream);
        await whileWriting(conn as unknown as postgres.Sql, async () => {
          await store.append(stream, [appended], 'no_stream');
          // Another transaction of this database can hide the event for a moment, but it must show while this one
          // is still open.
          await settles(async () => (await store.readAll({ streamPrefixes: [stream] })).map((e) => e.id)).toEqual([appended.id]);
          await settles(() => store.hasHeldBackEvents()).toBe(false);
          expect(await logIds(db.sql)).toContain(appended.id);
        });
      } finally {
        await connections.close();
      }
    });

    it.skipIf(target.kind !== 'postgres')("another database's open write transaction does not hold the log back", async () => {
      // Another application on the same server (here its maintenance database), in the middle of a long write.
      const url = new URL(db.url);
      url.pathname = '/postgres';
      const elsewhere = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        const databaseOf = async (sql: postgres.Sql) => (await sql<{ name: string }[]>`select current_database() as name`)[0]!.name;
        expect(await databaseOf(elsewhere)).not.toBe(await databaseOf(db.sql));
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let began!: () => void;
        const begun = new Promise<void>((resolve) => (began = resolve));
        const transaction = elsewhere.begin(async (tx) => {
          await tx`select pg_current_xact_id()`;
          began();
          await gate;
        });
        await begun;
        try {
          const stream = `note-${newId()}`;
          const appended = event(stream);
          await store.append(stream, [appended], 'no_stream');
          await settles(async () => (await store.readAll({ streamPrefixes: [stream] })).map((e) => e.id)).toEqual([appended.id]);
          await settles(() => store.hasHeldBackEvents()).toBe(false);
          expect(await logIds(db.sql)).toContain(appended.id);
        } finally {
          release();
          await transaction;
        }
      } finally {
        await elsewhere.end({ timeout: 2 });
      }
    });

    it.skipIf(target.kind !== 'postgres')('an unlabelled open write transaction still holds the log back until it ends', async () => {
      const other = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        const stream = `note-${newId()}`;
        const appended = event(stream);
        await whileWriting(other, async () => {
          await store.append(stream, [appended], 'no_stream');
          expect(await store.readAll({ streamPrefixes: [stream] })).toEqual([]);
          expect(await store.hasHeldBackEvents()).toBe(true);
          expect(await logIds(db.sql)).not.toContain(appended.id);
        });
        expect((await readAllSettled(store, { streamPrefixes: [stream] })).map((e) => e.id)).toEqual([appended.id]);
        await settles(() => store.hasHeldBackEvents()).toBe(false);
      } finally {
        await other.end({ timeout: 2 });
      }
    });
  });
}
