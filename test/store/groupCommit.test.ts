// Group commit in the PostgreSQL adapter: appends made while another is being written share one statement and one
// transaction, yet each keeps its own optimistic check and its own answer. Run on PGlite always, and on the real
// PostgreSQL when DATABASE_URL is set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStreams } from '../../api/audit/verify.ts';
import { eventIdFor, newId } from '../../eventstore/eventIds.ts';
import { migrate } from '../../eventstore/migrate.ts';
import { ConcurrencyError, type EventToAppend } from '../../eventstore/port.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import { openTestDatabase, reachableStores, type TestDatabase } from '../support/db.ts';

const event = (command: string, stream: string, index: number, text: string): EventToAppend => ({
  id: eventIdFor(command, stream, index),
  type: 'NoteAdded',
  data: { text },
  metadata: { actor: 'tester', commandId: command },
});

/** The transaction part of a PostgreSQL log position ("<transaction_id>/<global_position>"). */
const transactionOf = (position: string | undefined) => position?.split('/')[0];

for (const target of reachableStores().filter((t) => t.kind !== 'eventstoredb' && t.reachable)) {
  describe(`group commit (${target.title})`, () => {
    let db: TestDatabase;
    let store: PostgresEventStore;

    beforeAll(async () => {
      db = await openTestDatabase({ kind: target.kind as 'postgres' | 'pglite' });
      await migrate(db.sql);
      store = new PostgresEventStore(db.sql, { listen: false });
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
    });

    it('writes concurrent appends to many streams together, each stream numbered on from its own revision', async () => {
      const streams = Array.from({ length: 40 }, () => `note-${newId()}`);
      const first = await Promise.all(streams.map((s) => store.append(s, [event(newId(), s, 0, 'one')], 'no_stream')));
      const second = await Promise.all(
        streams.map((s) => {
          const command = newId();
          return store.append(s, [event(command, s, 0, 'two'), event(command, s, 1, 'three')], 0n);
        }),
      );
      expect(first.every((r) => r.written && r.nextRevision === 0n)).toBe(true);
      expect(second.every((r) => r.written && r.nextRevision === 2n)).toBe(true);
      // Grouped: far fewer transactions than appends (one append in flight, the rest in the next statement).
      expect(new Set(second.map((r) => transactionOf(r.position))).size).toBeLessThan(streams.length / 4);
      for (const s of streams) {
        const read = await store.readStream(s);
        expect(read.map((e) => [e.revision, (e.data as { text: string }).text])).toEqual([[0n, 'one'], [1n, 'two'], [2n, 'three']]);
      }
      // The hash chain links each grouped event to its own stream's previous one.
      const report = await verifyStreams(db.sql);
      expect(report).toMatchObject({ broken: 0, checked: streams.length * 3 });
    });

    it("refuses only the append whose expected revision is stale; the others in the batch are written", async () => {
      const streams = Array.from({ length: 12 }, () => `note-${newId()}`);
      await Promise.all(streams.map((s) => store.append(s, [event(newId(), s, 0, 'start')], 'no_stream')));
      const outcomes = await Promise.allSettled(
        streams.map((s, i) => store.append(s, [event(newId(), s, 0, 'next')], i === 5 ? 7n : 0n)),
      );
      expect(outcomes[5]).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrencyError) });
      const written = outcomes.filter((o, i) => i !== 5 && o.status === 'fulfilled' && o.value.written && o.value.nextRevision === 1n);
      expect(written).toHaveLength(streams.length - 1);
      expect(await store.readStream(streams[5]!)).toHaveLength(1);
    });

    it('a retried append in a batch (its events already stored) is answered as a retry, and the rest still written', async () => {
      const retried = `note-${newId()}`;
      const command = newId();
      const original = await store.append(retried, [event(command, retried, 0, 'once')], 'no_stream');
      const others = Array.from({ length: 10 }, () => `note-${newId()}`);
      const [again, ...rest] = await Promise.all([
        store.append(retried, [event(command, retried, 0, 'once')], 'no_stream'),
        ...others.map((s) => store.append(s, [event(newId(), s, 0, 'new')], 'no_stream')),
      ]);
      expect(again).toMatchObject({ written: false, nextRevision: original.nextRevision });
      expect(rest.every((r) => r.written)).toBe(true);
      expect(await store.readStream(retried)).toHaveLength(1);
    });

    it('appends racing for one stream are never in one statement: exactly one of each pair wins', async () => {
      const streams = Array.from({ length: 10 }, () => `note-${newId()}`);
      await Promise.all(streams.map((s) => store.append(s, [event(newId(), s, 0, 'start')], 'no_stream')));
      const outcomes = await Promise.allSettled(
        streams.flatMap((s) => [store.append(s, [event(newId(), s, 0, 'a')], 0n), store.append(s, [event(newId(), s, 0, 'b')], 0n)]),
      );
      for (let i = 0; i < streams.length; i++) {
        const pair = outcomes.slice(2 * i, 2 * i + 2);
        expect(pair.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect(pair.filter((o) => o.status === 'rejected' && o.reason instanceof ConcurrencyError)).toHaveLength(1);
        expect(await store.readStream(streams[i]!)).toHaveLength(2);
      }
    });
  });
}
