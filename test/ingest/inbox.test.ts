// The MQTT ingest's inbox (api/ingest/inbox.ts): alarms accepted into it are stored from there, after a restart too,
// each sensor's in order and sensors side by side. Real database, real ingestion; each test has an inbox session
// (consumer) of its own, so they never read each other's rows.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAlarms, type Alarm } from '../../api/ingest/alarms.ts';
import { incidents } from '../../api/commands/aggregates.ts';
import { startAlarmInbox, type AlarmInbox, type AlarmInboxOptions } from '../../api/ingest/inbox.ts';
import { expectStatus } from '../api/fixtures.ts';
import { eventually } from '../api/liveClient.ts';
import { poolWithBreakableSockets } from '../support/breakableSockets.ts';
import type { TestDatabase } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
// Sensors of this file only, so the incidents and receipts counted are this file's.
const GAS = `JA-GAS-${randomUUID().slice(0, 6)}`;
const SMOKE = `JA-SMK-${randomUUID().slice(0, 6)}`;

beforeAll(async () => {
  server = await startTestServer();
  const admin = await server.login('admin');
  for (const body of [
    { id: GAS, kind: 'gas_detector', location: { lat: 27.1234, lng: 114.9915 } },
    { id: SMOKE, kind: 'smoke_alarm', location: { lat: 27.1021, lng: 115.0182 } },
  ]) {
    expectStatus(await server.call('POST', '/api/sensors', { token: admin, body }), 201);
  }
});
afterAll(async () => {
  await server?.close();
});

const storeAll = (alarms: Alarm[]) => ingestAlarms({ store: server.store, sql: server.sql as never }, alarms, { channel: 'mqtt' });

/**
 * The real ingest, watched: records each alarm it is given (and each batch's size), lets `before` fail or hold an
 * alarm (a failure fails the whole batch, as the database being away does), then stores the batch for real.
 */
function watched(calls: string[], before?: (a: Alarm) => Promise<void> | void, batches: number[] = []): AlarmInboxOptions['ingest'] {
  return async (alarms) => {
    batches.push(alarms.length);
    for (const a of alarms) {
      calls.push(a.alarmId);
      await before?.(a);
    }
    return storeAll(alarms);
  };
}

/** Rows in a session's inbox before its inbox starts, as a crashed process leaves them: the first read takes them all. */
async function leftInInbox(consumer: string, alarms: Alarm[]): Promise<void> {
  for (const a of alarms) {
    await server.sql`insert into alarm_inbox (consumer, topic, alarm) values (${consumer}, ${'test/alarms/' + a.sensorId}, ${server.sql.json(a as never)})`;
  }
}

const opened: AlarmInbox[] = [];
function inbox(consumer: string, ingest: AlarmInboxOptions['ingest'], options: Partial<AlarmInboxOptions> = {}): AlarmInbox {
  const started = startAlarmInbox({ sql: server.sql as never, consumer, ingest, log: pino({ level: 'silent' }), retryFirstMs: 20, pollMs: 100, ...options });
  opened.push(started);
  return started;
}
afterAll(async () => {
  for (const started of opened) await started.close();
});

const alarm = (sensorId: string, label: string): Alarm => ({ alarmId: `${label}-${randomUUID()}`, sensorId, message: label });
const accept = (box: AlarmInbox, a: Alarm) => box.accept(`test/alarms/${a.sensorId}`, a);
const waiting = async (consumer: string) =>
  server.sql<Array<{ alarm_id: string; given_up: boolean; tries: number; last_error: string | null }>>`
    select alarm->>'alarmId' as alarm_id, given_up_at is not null as given_up, tries, last_error from alarm_inbox where consumer = ${consumer} order by id`;
const receipts = async (ids: string[]) => server.sql<Array<{ alarm_id: string; incident_id: string }>>`select alarm_id, incident_id from alarm_receipts where alarm_id = any(${ids})`;

describe(`the alarm inbox (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it("stores every accepted alarm once, each sensor's in the order accepted, two sensors side by side", async () => {
    const consumer = `inbox-order-${randomUUID()}`;
    const alarms = Array.from({ length: 24 }, (_, i) => alarm(i % 2 === 0 ? GAS : SMOKE, `order-${i}`));
    const calls: string[] = [];
    // The gas sensor's first alarm is held until a smoke alarm is being stored: one lane at a time would never get there.
    let smokeStarted!: () => void;
    const smokeGoing = new Promise<void>((resolve) => (smokeStarted = resolve));
    const box = inbox(
      consumer,
      watched(calls, async (a) => {
        if (a.sensorId === SMOKE) smokeStarted();
        if (a.alarmId === alarms[0]!.alarmId) await smokeGoing;
      }),
    );
    for (const a of alarms) await accept(box, a);
    await box.drained();

    const bySensor = (sensorId: string) => alarms.filter((a) => a.sensorId === sensorId).map((a) => a.alarmId);
    expect(calls.filter((id) => bySensor(GAS).includes(id))).toEqual(bySensor(GAS));
    expect(calls.filter((id) => bySensor(SMOKE).includes(id))).toEqual(bySensor(SMOKE));
    expect(calls).toHaveLength(alarms.length);
    const stored = await receipts(alarms.map((a) => a.alarmId));
    expect(stored).toHaveLength(alarms.length);
    expect(new Set(stored.map((r) => r.incident_id)).size).toBe(2);
    expect(await waiting(consumer)).toEqual([]);
  });

  it('an alarm in the inbox when the process stopped is stored after the next start, once', async () => {
    const consumer = `inbox-restart-${randomUUID()}`;
    const a = alarm(GAS, 'restart');
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => (arrived = resolve));
    // Stands for a process that stops (or dies) while the alarm is on its way to the log: it never finishes.
    const first = inbox(
      consumer,
      () => {
        arrived();
        return new Promise<never>(() => {});
      },
      { closeWaitMs: 50 },
    );
    await accept(first, a);
    await received;
    await first.close();
    expect((await waiting(consumer)).map((r) => r.alarm_id)).toEqual([a.alarmId]);
    expect(await receipts([a.alarmId])).toEqual([]);

    const seen: string[] = [];
    const second = inbox(consumer, watched(seen));
    await eventually(async () => ((await receipts([a.alarmId])).length > 0 ? true : undefined), 'the alarm left in the inbox to be stored');
    await eventually(async () => ((await waiting(consumer)).length === 0 ? true : undefined), 'its inbox row to go');
    expect(seen).toEqual([a.alarmId]);
    await second.close();
  });

  it("while the database is away an alarm is tried for as long as it takes; its sensor's next alarm waits, another sensor's goes on", async () => {
    const consumer = `inbox-away-${randomUUID()}`;
    const stuck = alarm(GAS, 'stuck');
    const behind = alarm(GAS, 'behind');
    const other = alarm(SMOKE, 'other');
    const calls: string[] = [];
    let failures = 0;
    await leftInInbox(consumer, [stuck, behind, other]);
    const box = inbox(
      consumer,
      // The stuck alarm fails until the other sensor's alarm is stored, and more often than an unforeseen fault is
      // given: the database being away is never given up on.
      watched(calls, async (a) => {
        if (a.alarmId !== stuck.alarmId) return;
        const otherStored = (await receipts([other.alarmId])).length > 0;
        if (!otherStored || failures < 6) {
          failures++;
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        }
      }),
    );
    await box.drained();

    const gasCalls = calls.filter((id) => id !== other.alarmId);
    expect(gasCalls.slice(-1)).toEqual([behind.alarmId]);
    expect(gasCalls.filter((id) => id === stuck.alarmId).length).toBe(failures + 1);
    expect(failures).toBeGreaterThanOrEqual(6);
    expect(calls.indexOf(other.alarmId)).toBeLessThan(calls.lastIndexOf(stuck.alarmId));
    expect((await receipts([stuck.alarmId, behind.alarmId, other.alarmId])).map((r) => r.alarm_id).sort()).toEqual(
      [stuck.alarmId, behind.alarmId, other.alarmId].sort(),
    );
    expect(await waiting(consumer)).toEqual([]);
  });

  it('an alarm refused for good leaves the inbox; one that keeps failing in an unforeseen way is kept, marked given up, and the next goes on; an administrator sees it and has it tried again', async () => {
    const consumer = `inbox-refused-${randomUUID()}`;
    const unknown = alarm('JA-NOT-REGISTERED', 'unknown');
    const poison = alarm(GAS, 'poison');
    const after = alarm(GAS, 'after');
    const calls: string[] = [];
    await leftInInbox(consumer, [unknown, poison, after]);
    const box = inbox(
      consumer,
      watched(calls, (a) => {
        if (a.alarmId === poison.alarmId) throw new TypeError("Cannot read properties of undefined (reading 'lat')");
      }),
    );
    await box.drained();

    expect(calls.filter((id) => id === unknown.alarmId)).toHaveLength(1);
    // Once in a batch with the alarm behind it; then alone, five times; then the one behind it.
    expect(calls.filter((id) => id !== unknown.alarmId)).toEqual([poison.alarmId, ...Array(5).fill(poison.alarmId), after.alarmId]);
    expect((await receipts([unknown.alarmId, poison.alarmId, after.alarmId])).map((r) => r.alarm_id)).toEqual([after.alarmId]);
    expect(await waiting(consumer)).toEqual([{ alarm_id: poison.alarmId, given_up: true, tries: 5, last_error: "Cannot read properties of undefined (reading 'lat')" }]);

    // Given up means never tried again, after a restart either.
    await box.close();
    const again = inbox(consumer, watched(calls));
    const late = alarm(GAS, 'late');
    await accept(again, late);
    await again.drained();
    expect(calls.slice(-1)).toEqual([late.alarmId]);
    expect(calls.filter((id) => id === poison.alarmId)).toHaveLength(6);

    // An administrator (or an auditor) sees it; a dispatcher may not.
    const admin = await server.login('admin');
    const seen = await server.call('GET', '/api/ingest/inbox', { token: await server.login('auditor') });
    expectStatus(seen, 200);
    expect(seen.body.givenUpCount).toBeGreaterThanOrEqual(1);
    const mine = seen.body.givenUp.filter((g: { consumer: string }) => g.consumer === consumer);
    expect(mine).toEqual([
      expect.objectContaining({ consumer, alarm: poison, tries: 5, lastError: "Cannot read properties of undefined (reading 'lat')", topic: `test/alarms/${GAS}` }),
    ]);
    expectStatus(await server.call('GET', '/api/ingest/inbox', { token: await server.login('dispatcher.fire') }), 403);

    // Once its cause is mended, the administrator has it tried again, and the session stores it.
    expectStatus(await server.call('POST', '/api/ingest/inbox/not-a-row/retry', { token: admin }), 400);
    expectStatus(await server.call('POST', `/api/ingest/inbox/${mine[0].id}/retry`, { token: await server.login('dispatcher.fire') }), 403);
    const retried = await server.call('POST', `/api/ingest/inbox/${mine[0].id}/retry`, { token: admin });
    expectStatus(retried, 202);
    expect(retried.body).toEqual({ id: mine[0].id, retrying: true });
    await eventually(async () => ((await receipts([poison.alarmId])).length > 0 ? true : undefined), 'the retried alarm to be stored');
    await eventually(async () => ((await waiting(consumer)).length === 0 ? true : undefined), 'its row to go');
    const again404 = await server.call('POST', `/api/ingest/inbox/${mine[0].id}/retry`, { token: admin });
    expectStatus(again404, 404);
    expect(again404.body.detail).toContain(`inbox id ${mine[0].id}`);
  });

  it("reads only its own session's rows", async () => {
    const mine = `inbox-mine-${randomUUID()}`;
    const theirs = `inbox-theirs-${randomUUID()}`;
    const their = alarm(GAS, 'theirs');
    await server.sql`insert into alarm_inbox (consumer, topic, alarm) values (${theirs}, ${'test/alarms/' + GAS}, ${server.sql.json(their as never)})`;
    const calls: string[] = [];
    const box = inbox(mine, watched(calls));
    const own = alarm(GAS, 'mine');
    await accept(box, own);
    await box.drained();
    expect(calls).toEqual([own.alarmId]);
    expect((await waiting(theirs)).map((r) => r.alarm_id)).toEqual([their.alarmId]);
    expect(await receipts([their.alarmId])).toEqual([]);
  });

  it("a storm from one sensor is stored a batch at a time: one incident, a note per alarm, in order, repeats once", async () => {
    const consumer = `inbox-storm-${randomUUID()}`;
    const sensor = `JA-SMK-${randomUUID().slice(0, 6)}`;
    expectStatus(await server.call('POST', '/api/sensors', { token: await server.login('admin'), body: { id: sensor, kind: 'smoke_alarm', location: { lat: 27.11, lng: 115.0 } } }), 201);
    const alarms = Array.from({ length: 250 }, (_, i) => alarm(sensor, `storm-${i}`));
    // The same alarm delivered again within the storm (a broker's redelivery) is stored once.
    await leftInInbox(consumer, [...alarms.slice(0, 120), alarms[5]!, ...alarms.slice(120)]);
    const calls: string[] = [];
    const batches: number[] = [];
    const box = inbox(consumer, watched(calls, undefined, batches));
    await eventually(async () => ((await waiting(consumer)).length === 0 ? true : undefined), 'the storm to be stored');
    await box.drained();

    expect(batches).toEqual([100, 100, 51]);
    const stored = await receipts(alarms.map((a) => a.alarmId));
    expect(stored).toHaveLength(250);
    const [incidentId] = new Set(stored.map((r) => r.incident_id));
    expect(new Set(stored.map((r) => r.incident_id)).size).toBe(1);
    const events = await server.store.readStream(incidents.stream(incidentId!));
    expect(events.map((e) => e.type)).toEqual(['IncidentReported', ...Array(249).fill('IncidentNoteAdded')]);
    // In the order the broker handed them over: the report names the first alarm, each note the next.
    expect((events.at(1)!.data as { text: string }).text).toContain(alarms[1]!.alarmId);
    expect((events.at(-1)!.data as { text: string }).text).toContain(alarms[249]!.alarmId);
    const order = events.slice(1).map((e) => alarms.findIndex((a) => (e.data as { text: string }).text.includes(`alarm ${a.alarmId}`)));
    expect(order).toEqual(Array.from({ length: 249 }, (_, i) => i + 1));
  });

  it('in a storm a sensor\'s alarms wait a little to be stored together; out of one, an alarm is stored at once', async () => {
    const consumer = `inbox-linger-${randomUUID()}`;
    const sensor = `JA-SMK-${randomUUID().slice(0, 6)}`;
    expectStatus(await server.call('POST', '/api/sensors', { token: await server.login('admin'), body: { id: sensor, kind: 'smoke_alarm', location: { lat: 27.12, lng: 115.01 } } }), 201);
    const calls: string[] = [];
    const batches: number[] = [];
    // A storm here is two alarms within 10 s, so a slow machine cannot miss it; lingering is up to 5 s, unless a
    // sensor's alarms fill a batch (100) first.
    const box = inbox(consumer, watched(calls, undefined, batches), { lingerMs: 5000, storm: { alarms: 2, withinMs: 10_000 } });
    const first = alarm(sensor, 'lone');
    await accept(box, first);
    await eventually(async () => ((await receipts([first.alarmId])).length > 0 ? true : undefined), 'the lone alarm to be stored without lingering', 4000);
    const alarms = Array.from({ length: 100 }, (_, i) => alarm(sensor, `gust-${i}`));
    for (const a of alarms) await accept(box, a);
    await box.drained();

    // The first alone, the moment it came; the hundred after it in a few batches, not a hundred.
    expect(batches[0]).toBe(1);
    expect(batches.slice(1).reduce((sum, n) => sum + n, 0)).toBe(100);
    expect(batches.length - 1).toBeLessThanOrEqual(4);
    expect(calls).toEqual([first.alarmId, ...alarms.map((a) => a.alarmId)]);
    expect(await receipts(alarms.map((a) => a.alarmId))).toHaveLength(100);
  });

  it('an alarm that opened its incident, stored again because its receipt was never written, adds no note', async () => {
    const sensor = `JA-GAS-${randomUUID().slice(0, 6)}`;
    expectStatus(await server.call('POST', '/api/sensors', { token: await server.login('admin'), body: { id: sensor, kind: 'gas_detector', location: { lat: 27.13, lng: 114.98 } } }), 201);
    const opener = alarm(sensor, 'opener');
    const [first] = await storeAll([opener]);
    expect(first).toMatchObject({ outcome: 'opened', duplicate: false });
    // The process stopped after the report was appended and before the receipt was written: the inbox row is still
    // there, so the alarm is stored again after the restart, now with the one that came after it.
    await server.sql`delete from alarm_receipts where alarm_id = ${opener.alarmId}`;
    const next = alarm(sensor, 'next');
    const answers = await storeAll([opener, next]);
    const incidentId = (first as { incidentId: string }).incidentId;
    expect(answers).toEqual([
      { alarmId: opener.alarmId, sensorId: sensor, incidentId, outcome: 'opened', duplicate: true },
      { alarmId: next.alarmId, sensorId: sensor, incidentId, outcome: 'attached', duplicate: false },
    ]);
    const events = await server.store.readStream(incidents.stream(incidentId));
    expect(events.map((e) => e.type)).toEqual(['IncidentReported', 'IncidentNoteAdded']);
    expect((events[1]!.data as { text: string }).text).toContain(next.alarmId);
    expect((await receipts([opener.alarmId, next.alarmId])).map((r) => r.alarm_id).sort()).toEqual([opener.alarmId, next.alarmId].sort());
  });

  // On a server the accepts have a connection of their own (the embedded PGlite has one connection for everyone).
  it.runIf(process.env.DATABASE_URL)('an accept whose connection stops answering fails in time as the database away, and the next accept opens another', async () => {
    const consumer = `inbox-silent-${randomUUID()}`;
    const { host, port, database, user } = server.sql.options as unknown as { host: string[]; port: number[]; database: string; user: string };
    const { sql: breakable, breakNextConnection } = poolWithBreakableSockets({ url: `postgres://${user}@${host[0]}:${port[0]}/${database}` } as TestDatabase);
    try {
      const calls: string[] = [];
      const box = inbox(consumer, watched(calls), { sql: breakable as never, acceptTimeoutMs: 500 });
      await box.drained();
      // The next connection opened is the accepts' own: it stops taking in answers once its INSERT has gone out
      // (its first write is its start-up).
      breakNextConnection('silence', 2);
      const lost = alarm(GAS, 'silenced');
      await expect(accept(box, lost)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const next = alarm(GAS, 'after-silence');
      await accept(box, next);
      await box.drained();
      expect(await receipts([next.alarmId])).toHaveLength(1);
      // The silenced INSERT may have been committed all the same: then its row is stored too, once, as the broker's
      // redelivery of it would be.
      await eventually(async () => ((await waiting(consumer)).length === 0 ? true : undefined), 'the inbox to empty');
      expect(calls.filter((id) => id === next.alarmId)).toHaveLength(1);
      await box.close();
    } finally {
      await breakable.end({ timeout: 1 });
    }
  });
});
