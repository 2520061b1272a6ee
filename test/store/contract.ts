import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventIdFor } from '../../eventstore/eventIds.ts';
import {
  ConcurrencyError,
  DuplicateEventError,
  START,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '../../eventstore/port.ts';
import type { StoreUnderTest } from './adapters.ts';
import { readAllSettled } from '../support/settledLog.ts';
import type { StoreAdapterKind } from '../support/db.ts';

/**
 * What every EventStore adapter must do. Each test writes to streams under its own random prefix, so
 * tests share one store without seeing each other's events (and an EventStoreDB server may be reused).
 */
export function eventStoreContract(kind: StoreAdapterKind, open: () => Promise<StoreUnderTest>): void {
  describe(`event store contract — ${kind}`, () => {
    let sut: StoreUnderTest;
    let store: EventStore;

    beforeAll(async () => {
      sut = await open();
      store = sut.store;
    });
    afterAll(async () => {
      await sut?.close();
    });

    describe('append and read a stream', () => {
      it('reads back what was appended: ids, types, data, metadata, revisions from 0, store time', async () => {
        const stream = `${prefix()}incident-1`;
        const before = Date.now();
        const events = [
          event(stream, 0, 'IncidentReported', { title: 'Fire at 12 Jinggangshan Rd', priority: 1, tags: ['fire', 'smoke'] }),
          event(stream, 1, 'IncidentTriaged', { priority: 2, note: '起火 — 三楼' }),
          event(stream, 2, 'UnitAssigned', { unitId: 'unit-7', nested: { a: [1, { b: null }] } }),
        ];
        const result = await store.append(stream, events, 'no_stream');
        expect(result.written).toBe(true);
        expect(result.nextRevision).toBe(2n);

        const read = await store.readStream(stream);
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expect(read.map(({ id, streamId, type, data, metadata }) => ({ id, streamId, type, data, metadata }))).toEqual(
          events.map(({ id, type, data, metadata }) => ({ id, streamId: stream, type, data, metadata })),
        );
        for (const recorded of read) {
          expect(recorded.recordedAt).toBeInstanceOf(Date);
          // The store's clock, not the command's business time; generous bounds for a remote server's clock.
          expect(Math.abs(recorded.recordedAt.getTime() - before)).toBeLessThan(5 * 60_000);
          expect(typeof recorded.position).toBe('string');
        }
        expect(read[0]!.metadata.$correlationId).toBe('corr-1');
        expect(read[0]!.metadata.$causationId).toBe('cmd-1');
      });

      it('returns [] for a stream that does not exist', async () => {
        expect(await store.readStream(`${prefix()}nothing-here`)).toEqual([]);
      });

      it('reads part of a stream from a revision, at most maxCount events', async () => {
        const stream = `${prefix()}unit-1`;
        await store.append(stream, range(5).map((i) => event(stream, i)), 'no_stream');
        const part = await store.readStream(stream, { fromRevision: 2n, maxCount: 2 });
        expect(part.map((e) => e.revision)).toEqual([2n, 3n]);
      });
    });

    describe('expected revision', () => {
      it('no_stream: creates a stream; a second no_stream append is a conflict that names the actual revision', async () => {
        const stream = `${prefix()}s`;
        await store.append(stream, [event(stream, 0), event(stream, 1)], 'no_stream');
        const error = await rejectionOf(store.append(stream, [event(stream, 2)], 'no_stream'));
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect((error as ConcurrencyError).actual).toBe(1n);
        expect((error as ConcurrencyError).streamId).toBe(stream);
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('exact revision: appends when the stream is there, conflicts when it moved on or does not exist', async () => {
        const stream = `${prefix()}s`;
        await store.append(stream, [event(stream, 0)], 'no_stream');
        expect((await store.append(stream, [event(stream, 1)], 0n)).nextRevision).toBe(1n);
        expect((await store.append(stream, [event(stream, 2), event(stream, 3)], 1n)).nextRevision).toBe(3n);

        const stale = await rejectionOf(store.append(stream, [event(stream, 9)], 1n));
        expect(stale).toBeInstanceOf(ConcurrencyError);
        expect((stale as ConcurrencyError).actual).toBe(3n);
        expect((stale as ConcurrencyError).expected).toBe(1n);

        const missing = await rejectionOf(store.append(`${prefix()}absent`, [event('x', 0)], 0n));
        expect(missing).toBeInstanceOf(ConcurrencyError);
        expect((missing as ConcurrencyError).actual).toBe('no_stream');
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
      });

      it('stream_exists: conflicts on a missing stream, appends to an existing one', async () => {
        const stream = `${prefix()}s`;
        const error = await rejectionOf(store.append(stream, [event(stream, 0)], 'stream_exists'));
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect((error as ConcurrencyError).actual).toBe('no_stream');
        expect(await store.readStream(stream)).toEqual([]);

        await store.append(stream, [event(stream, 1)], 'no_stream');
        expect((await store.append(stream, [event(stream, 2)], 'stream_exists')).nextRevision).toBe(1n);
      });

      it('any: creates or appends, whatever the revision', async () => {
        const stream = `${prefix()}s`;
        expect((await store.append(stream, [event(stream, 0)], 'any')).nextRevision).toBe(0n);
        expect((await store.append(stream, [event(stream, 1), event(stream, 2)], 'any')).nextRevision).toBe(2n);
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      });

      it('20 concurrent appends at the same revision: exactly one wins, the others get ConcurrencyError', async () => {
        const stream = `${prefix()}contended`;
        await store.append(stream, [event(stream, 0)], 'no_stream');
        const outcomes = await Promise.allSettled(
          range(20).map((i) => store.append(stream, [event(stream, 0, 'Contender', { i }, `command-${i}`)], 0n)),
        );
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(19);
        for (const loss of lost) {
          expect(loss.reason).toBeInstanceOf(ConcurrencyError);
          expect((loss.reason as ConcurrencyError).actual).toBe(1n);
        }
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('20 concurrent appends creating the same stream: exactly one wins, the others get ConcurrencyError', async () => {
        const stream = `${prefix()}created-twice`;
        const outcomes = await Promise.allSettled(
          range(20).map((i) => store.append(stream, [event(stream, 0, 'Contender', { i }, `command-${i}`)], 'no_stream')),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(lost).toHaveLength(19);
        for (const loss of lost) expect(loss.reason).toBeInstanceOf(ConcurrencyError);
        expect(await store.readStream(stream)).toHaveLength(1);
      });
    });

    describe('idempotency', () => {
      it('re-appending the same event ids writes nothing and says so', async () => {
        const stream = `${prefix()}s`;
        const events = [event(stream, 0), event(stream, 1)];
        await store.append(stream, events, 'no_stream');
        const retry = await store.append(stream, events, 'no_stream');
        expect(retry).toMatchObject({ written: false, nextRevision: 1n });
        const again = await store.append(stream, events, 'any');
        expect(again).toMatchObject({ written: false, nextRevision: 1n });
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('a retry with a now-stale expected revision still writes nothing and is not a conflict', async () => {
        const stream = `${prefix()}s`;
        const first = [event(stream, 0, 'First', { n: 1 }, 'command-a')];
        await store.append(stream, first, 'no_stream');
        const second = [event(stream, 0, 'Second', { n: 2 }, 'command-b'), event(stream, 1, 'Second', { n: 3 }, 'command-b')];
        await store.append(stream, second, 0n);
        // command-b is retried with the revision it saw the first time, which has moved on since.
        expect(await store.append(stream, second, 0n)).toMatchObject({ written: false, nextRevision: 2n });
        expect(await store.append(stream, first, 'no_stream')).toMatchObject({ written: false, nextRevision: 2n });
        expect(await store.readStream(stream)).toHaveLength(3);
      });

      it('an event id reused for different content is a DuplicateEventError, and nothing is written', async () => {
        const stream = `${prefix()}s`;
        const original = event(stream, 0, 'Reported', { what: 'fire' }, 'command-x');
        await store.append(stream, [original], 'no_stream');
        const reused = { ...original, data: { what: 'flood' } };
        await expect(store.append(stream, [reused], 0n)).rejects.toBeInstanceOf(DuplicateEventError);
        await expect(store.append(stream, [{ ...original, type: 'Other' }], 'any')).rejects.toBeInstanceOf(DuplicateEventError);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('a batch mixing stored and new ids is a DuplicateEventError, and nothing is written', async () => {
        const stream = `${prefix()}s`;
        const stored = event(stream, 0, 'Reported', { n: 0 }, 'command-y');
        await store.append(stream, [stored], 'no_stream');
        const fresh = event(stream, 1, 'Reported', { n: 1 }, 'command-z');
        await expect(store.append(stream, [stored, fresh], 'any')).rejects.toBeInstanceOf(DuplicateEventError);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('an event id already stored in another stream is a DuplicateEventError', async (context) => {
        if (!sut.detectsIdsReusedAcrossStreams) context.skip('EventStoreDB deduplicates event ids per stream only');
        const p = prefix();
        const original = event(`${p}one`, 0, 'Reported', { n: 1 }, 'command-w');
        await store.append(`${p}one`, [original], 'no_stream');
        await expect(store.append(`${p}two`, [original], 'no_stream')).rejects.toBeInstanceOf(DuplicateEventError);
        expect(await store.readStream(`${p}two`)).toEqual([]);
      });
    });

    describe('the global log', () => {
      it('orders events across streams as they were appended', async () => {
        const p = prefix();
        const plan = ['a', 'b', 'a', 'c', 'b', 'a'];
        const written: string[] = [];
        const revisions = new Map<string, number>();
        for (const name of plan) {
          const rev = revisions.get(name) ?? 0;
          revisions.set(name, rev + 1);
          const e = event(`${p}${name}`, rev, 'Happened', { name, rev });
          await store.append(`${p}${name}`, [e], rev === 0 ? 'no_stream' : BigInt(rev - 1));
          written.push(e.id);
        }
        const all = await readAllSettled(store, { streamPrefixes: [p] });
        expect(all.map((e) => e.id)).toEqual(written);
        expect(new Set(all.map((e) => e.position)).size).toBe(all.length);
      });

      it('reads after a position (exclusive), at most maxCount, and only the streams asked for', async () => {
        const p = prefix();
        for (const name of ['incident-1', 'unit-1', 'incident-2', 'audit-1', 'unit-2', 'incident-1']) {
          await store.append(`${p}${name}`, [event(`${p}${name}`, 0, 'Happened', { name }, randomUUID())], 'any');
        }
        const all = await readAllSettled(store, { streamPrefixes: [p] });
        expect(all).toHaveLength(6);

        const after = await readAllSettled(store, { streamPrefixes: [p], from: all[1]!.position });
        expect(after.map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));

        const page = await readAllSettled(store, { streamPrefixes: [p], from: all[1]!.position, maxCount: 2 });
        expect(page.map((e) => e.id)).toEqual(all.slice(2, 4).map((e) => e.id));

        const incidents = await readAllSettled(store, { streamPrefixes: [`${p}incident-`] });
        expect(incidents.map((e) => e.streamId)).toEqual([`${p}incident-1`, `${p}incident-2`, `${p}incident-1`]);

        const two = await readAllSettled(store, { streamPrefixes: [`${p}unit-`, `${p}audit-`] });
        expect(two.map((e) => e.streamId)).toEqual([`${p}unit-1`, `${p}audit-1`, `${p}unit-2`]);

        expect(await readAllSettled(store, { streamPrefixes: [p], from: all[5]!.position })).toEqual([]);
        expect(await readAllSettled(store, { streamPrefixes: [p], from: START, maxCount: 1 })).toHaveLength(1);
      });
    });

    describe('subscriptions', () => {
      it('catches up, then delivers live events, each once, and stops on close', async () => {
        const p = prefix();
        const stream = `${p}s`;
        await store.append(stream, range(3).map((i) => event(stream, i)), 'no_stream');
        const seen: RecordedEvent[] = [];
        const subscription = store.subscribe({ streamPrefixes: [p] }, async (batch) => {
          seen.push(...batch);
        });
        await waitFor(() => seen.length >= 3);

        await store.append(stream, [event(stream, 3)], 2n);
        await store.append(stream, [event(stream, 4), event(stream, 5)], 3n);
        await waitFor(() => seen.length >= 6);
        await sleep(sut.pollIntervalMs * 3);
        expect(seen.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);

        await subscription.close();
        await expect(subscription.done).resolves.toBeUndefined();
        await store.append(stream, [event(stream, 6)], 5n);
        await sleep(sut.pollIntervalMs * 4);
        expect(seen).toHaveLength(6);
      });

      it('starts after a given position', async () => {
        const p = prefix();
        const stream = `${p}s`;
        await store.append(stream, range(5).map((i) => event(stream, i)), 'no_stream');
        const all = await readAllSettled(store, { streamPrefixes: [p] });
        const seen: RecordedEvent[] = [];
        const subscription = store.subscribe({ streamPrefixes: [p], from: all[1]!.position }, async (batch) => {
          seen.push(...batch);
        });
        try {
          await waitFor(() => seen.length >= 3);
          await store.append(stream, [event(stream, 5)], 4n);
          await waitFor(() => seen.length >= 4);
          await sleep(sut.pollIntervalMs * 3);
          expect(seen.map((e) => e.revision)).toEqual([2n, 3n, 4n, 5n]);
        } finally {
          await subscription.close();
        }
      });

      it('calls the handler one batch at a time, never overlapping', async () => {
        const p = prefix();
        const stream = `${p}s`;
        await store.append(stream, range(6).map((i) => event(stream, i)), 'no_stream');
        let running = 0;
        let maxRunning = 0;
        const seen: RecordedEvent[] = [];
        const subscription = store.subscribe({ streamPrefixes: [p], batchSize: 2 }, async (batch) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          expect(batch.length).toBeLessThanOrEqual(2);
          await sleep(20);
          seen.push(...batch);
          running--;
        });
        try {
          await store.append(stream, [event(stream, 6)], 5n);
          await waitFor(() => seen.length >= 7);
          expect(maxRunning).toBe(1);
          expect(seen.map((e) => e.revision)).toEqual(range(7).map(BigInt));
        } finally {
          await subscription.close();
        }
      });

      it('ends done with the error when the handler fails', async () => {
        const p = prefix();
        await store.append(`${p}s`, [event(`${p}s`, 0)], 'no_stream');
        const subscription = store.subscribe({ streamPrefixes: [p] }, async () => {
          throw new Error('projection broke');
        });
        await expect(subscription.done).rejects.toThrow('projection broke');
        await subscription.close();
      });

      it('delivers every event exactly once, in log order, while many writers append', async () => {
        const p = prefix();
        const seen: RecordedEvent[] = [];
        const subscription = store.subscribe({ streamPrefixes: [p], batchSize: 7 }, async (batch) => {
          seen.push(...batch);
        });
        try {
          const writers = 6;
          const perWriter = 15;
          await Promise.all(
            range(writers).map(async (w) => {
              const stream = `${p}writer-${w}`;
              for (let i = 0; i < perWriter; i++) {
                await store.append(stream, [event(stream, i)], i === 0 ? 'no_stream' : BigInt(i - 1));
              }
            }),
          );
          await waitFor(() => seen.length >= writers * perWriter);
          await sleep(sut.pollIntervalMs * 3);
          expect(seen).toHaveLength(writers * perWriter);
          expect(new Set(seen.map((e) => e.id)).size).toBe(writers * perWriter);
          const log = await readAllSettled(store, { streamPrefixes: [p] });
          expect(seen.map((e) => e.id)).toEqual(log.map((e) => e.id));
        } finally {
          await subscription.close();
        }
      });

      it('never skips an event whose transaction commits after a later one (PostgreSQL family)', async (context) => {
        const transactions = sut.transactions;
        if (!transactions) context.skip('only PostgreSQL-family stores expose transactions to tests');
        const tx = transactions!;
        const p = prefix();
        const seen: RecordedEvent[] = [];
        const subscription = store.subscribe({ streamPrefixes: [p] }, async (batch) => {
          seen.push(...batch);
        });
        try {
          let releaseA!: () => void;
          const gate = new Promise<void>((resolve) => (releaseA = resolve));
          let appendedA!: () => void;
          const aIsWritten = new Promise<void>((resolve) => (appendedA = resolve));
          const eventA = event(`${p}a`, 0, 'CommittedLate');
          const eventB = event(`${p}b`, 0, 'CommittedFirst');

          // A appends first and stays open; B appends after it.
          const transactionA = tx.begin(async (appendWithin) => {
            await appendWithin(`${p}a`, [eventA], 'no_stream');
            appendedA();
            await gate;
          });
          await aIsWritten;

          if (tx.concurrent) {
            // PostgreSQL: B commits while A is still open…
            await store.append(`${p}b`, [eventB], 'no_stream');
            expect((await store.readStream(`${p}b`)).map((e) => e.id)).toEqual([eventB.id]);
            // …and the log holds B back: delivering it now would put it before A, which would then be skipped.
            expect(await store.readAll({ streamPrefixes: [p] })).toEqual([]);
            // …and says so, so that a subscription looks again soon rather than at its next poll.
            expect(await store.hasHeldBackEvents?.()).toBe(true);
            await sleep(sut.pollIntervalMs * 4);
            expect(seen).toEqual([]);
            releaseA();
            await transactionA;
          } else {
            // PGlite runs one transaction at a time: B waits for A's commit instead of overtaking it.
            const appendB = store.append(`${p}b`, [eventB], 'no_stream');
            await sleep(sut.pollIntervalMs * 2);
            expect(seen).toEqual([]);
            releaseA();
            await transactionA;
            await appendB;
          }

          await waitFor(() => seen.length >= 2);
          await sleep(sut.pollIntervalMs * 3);
          expect(seen.map((e) => e.id)).toEqual([eventA.id, eventB.id]);
          if (store.hasHeldBackEvents) {
            // Another transaction open in this database can keep the horizon behind for a while.
            const deadline = Date.now() + 20_000;
            let held = await store.hasHeldBackEvents();
            while (held && Date.now() < deadline) {
              await sleep(20);
              held = await store.hasHeldBackEvents();
            }
            expect(held).toBe(false);
          }
          expect((await readAllSettled(store, { streamPrefixes: [p] })).map((e) => e.id)).toEqual([eventA.id, eventB.id]);
        } finally {
          await subscription.close();
        }
      });
    });
  });
}

let prefixCounter = 0;
/** A stream-name prefix no other test (or earlier run against the same server) uses. */
function prefix(): string {
  return `t${++prefixCounter}_${randomUUID().slice(0, 8)}-`;
}

function event(
  streamId: string,
  index: number,
  type = 'Happened',
  data: unknown = { index },
  commandId: string = `command-${streamId}-${index}`,
): EventToAppend {
  return {
    id: eventIdFor(commandId, streamId, index),
    type,
    data,
    metadata: {
      actor: 'user-1',
      role: 'dispatcher',
      agency: 'police',
      commandId,
      $correlationId: 'corr-1',
      $causationId: 'cmd-1',
      occurredAt: '2026-03-02T08:00:00.000Z',
    },
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
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

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
