import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAlarm, type Alarm, type AlarmOutcome } from '../../api/ingest/alarms.ts';
import { alarmTopic, defaultClientId, startMqttIngest, type MqttIngest } from '../../api/ingest/mqtt.ts';
import { expectStatus } from '../api/fixtures.ts';
import { eventually, LiveClient } from '../api/liveClient.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const BROKER = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
// A topic tree of this run only: parallel runs on the same broker never hear each other.
const PREFIX = `citybrain-test/${randomUUID()}`;

let server: TestServer;
let publisher: MqttClient;
let live: LiveClient;

beforeAll(async () => {
  server = await startTestServer({ config: { mqttUrl: BROKER, mqttTopicPrefix: PREFIX } });
  const admin = await server.login('admin');
  for (const body of [
    { id: 'JA-GAS-7001', kind: 'gas_detector', location: { lat: 27.1234, lng: 114.9915 }, address: '吉州区 北门街道 燃气调压站' },
    { id: 'JA-SMK-7002', kind: 'smoke_alarm', location: { lat: 27.1021, lng: 115.0182 } },
    { id: 'JA-GAS-7003', kind: 'gas_detector', location: { lat: 27.1302, lng: 114.9701 } },
  ]) {
    expectStatus(await server.call('POST', '/api/sensors', { token: admin, body }), 201);
  }
  const ticket = await server.call('POST', '/api/live/ticket', { token: await server.login('dispatcher.fire') });
  expectStatus(ticket, 201);
  live = await LiveClient.open(server.baseUrl, { ticket: ticket.body.ticket });
  publisher = await mqtt.connectAsync(BROKER, { clientId: `citybrain-test-publisher-${randomUUID()}` });
});
afterAll(async () => {
  await live?.close();
  await publisher?.endAsync();
  await server?.close();
  // The broker keeps a persistent session until told to forget it: a clean connection under its id does.
  for (const prefix of [PREFIX, ...awayPrefixes]) {
    const forget = await mqtt.connectAsync(BROKER, { clientId: defaultClientId(prefix), clean: true });
    await forget.endAsync();
  }
});

const publish = (sensorId: string, alarm: Record<string, unknown>) => publisher.publishAsync(alarmTopic(PREFIX, sensorId), JSON.stringify(alarm), { qos: 1 });

async function receipts(sensorId: string): Promise<Array<{ alarm_id: string; incident_id: string; outcome: string }>> {
  return server.sql`select alarm_id, incident_id, outcome from alarm_receipts where sensor_id = ${sensorId} order by received_at, alarm_id`;
}

describe(`alarms over MQTT (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('an alarm published to the broker opens an incident that the live feed shows', async () => {
    await publish('JA-GAS-7001', { alarmId: `gas-${randomUUID()}`, sensorId: 'JA-GAS-7001', reading: 412, message: 'methane 412 ppm' });
    await live.until(
      (messages) => messages.some((m) => m.type === 'change' && m.eventType === 'IncidentReported' && (m.incident as { source?: string } | undefined)?.source === 'sensor'),
      'the sensor incident on the live feed',
    );
    const change = live.changes().find((m) => m.eventType === 'IncidentReported')!;
    expect(change.incident).toMatchObject({ type: 'gas_leak', source: 'sensor', location: { lat: 27.1234, lng: 114.9915 }, address: '吉州区 北门街道 燃气调压站' });
    expect(change.actor).toBe('sensor:JA-GAS-7001');
    // The receipt is written after the event is appended, so it may trail the live feed.
    const [receipt] = await eventually(async () => {
      const rows = await receipts('JA-GAS-7001');
      return rows.length > 0 ? rows : undefined;
    }, 'the gas alarm receipt', 20_000);
    expect(receipt).toMatchObject({ incident_id: change.id, outcome: 'opened' });
  });

  it('100 alarms from one sensor (and repeats of one of them) open exactly one incident', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `storm-${i}-${randomUUID()}`);
    await Promise.all(ids.map((alarmId) => publish('JA-SMK-7002', { alarmId, message: 'smoke' })));
    // Repeats of an alarm already sent, then a last one: the sensor's alarms are handled in order.
    for (let i = 0; i < 5; i++) await publish('JA-SMK-7002', { alarmId: ids[0]!, message: 'smoke' });
    const last = `storm-last-${randomUUID()}`;
    await publish('JA-SMK-7002', { alarmId: last });

    const all = await eventually(async () => {
      const rows = await receipts('JA-SMK-7002');
      return rows.some((r) => r.alarm_id === last) ? rows : undefined;
    }, 'every storm alarm to be ingested');
    expect(all).toHaveLength(101);
    const incidentIds = new Set(all.map((r) => r.incident_id));
    expect(incidentIds.size).toBe(1);
    expect(all.filter((r) => r.outcome === 'opened')).toHaveLength(1);

    await server.settle();
    const [incidentId] = [...incidentIds];
    const board = await server.sql`select id, source, type, notes_count from incident_board where source = 'sensor' and type = 'fire_alarm'`;
    expect(board).toEqual([{ id: incidentId, source: 'sensor', type: 'fire_alarm', notes_count: 100 }]);
  });
});

// Each test below runs the broker side of an ingest on a topic tree (and so a broker session) of its own, with an
// accept that writes through the real ingestion into the same server's log (the inbox is tested in inbox.test.ts).
// The server's ingest (on PREFIX) does not hear these topics. What they log is kept, so a failure shows what the
// ingest saw.
const awayPrefixes: string[] = [];

class Away {
  readonly prefix = `${PREFIX}-away-${randomUUID().slice(0, 8)}`;
  readonly logs: string[] = [];
  constructor() {
    awayPrefixes.push(this.prefix);
  }

  /** The broker side alone: `accept` stands for the server's inbox, here storing the alarm outright (or failing as told). */
  start(accept: (alarm: Alarm) => Promise<AlarmOutcome>): MqttIngest {
    const log = pino({ level: 'debug' }, { write: (line: string) => void this.logs.push(line.trim()) });
    return startMqttIngest({ url: BROKER, prefix: this.prefix, accept: (_topic, alarm) => accept(alarm), log, retryFirstMs: 50 });
  }

  publish(sensorId: string, alarm: Record<string, unknown>) {
    return publisher.publishAsync(alarmTopic(this.prefix, sensorId), JSON.stringify(alarm), { qos: 1 });
  }

  async receiptOf(alarmId: string) {
    try {
      return await eventually(async () => {
        const [row] = await server.sql<Array<{ alarm_id: string; outcome: string }>>`select alarm_id, outcome from alarm_receipts where alarm_id = ${alarmId}`;
        return row;
      }, `the receipt of ${alarmId}`, 30_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the ingest logged:\n${this.logs.join('\n')}`);
    }
  }
}

const storeAlarm = (alarm: Alarm) => ingestAlarm({ store: server.store, sql: server.sql as never }, alarm, { channel: 'mqtt' });

describe('alarms over MQTT are not lost while the server is away', () => {
  it('an alarm published while the ingest is disconnected is delivered when it connects again', async () => {
    const away = new Away();
    const first = away.start(storeAlarm);
    await first.ready;
    await first.close();

    const alarmId = `away-${randomUUID()}`;
    await away.publish('JA-GAS-7003', { alarmId, reading: 300 });

    const second = away.start(storeAlarm);
    try {
      expect(await away.receiptOf(alarmId)).toMatchObject({ alarm_id: alarmId });
    } finally {
      await second.close();
    }
  });

  it('an alarm received but not yet accepted when the ingest stopped is delivered again, and stored once', async () => {
    const away = new Away();
    const alarmId = `unfinished-${randomUUID()}`;
    let received: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    // Stands for a server that stops (or dies) while the alarm is on its way to the log: it never finishes.
    const first = away.start(() => {
      received();
      return new Promise<AlarmOutcome>(() => {});
    });
    await first.ready;
    await away.publish('JA-GAS-7003', { alarmId, reading: 310 });
    await arrived;
    await first.close();

    const seen: string[] = [];
    const second = away.start((alarm) => {
      seen.push(alarm.alarmId);
      return storeAlarm(alarm);
    });
    try {
      expect(await away.receiptOf(alarmId)).toMatchObject({ alarm_id: alarmId });
      expect(seen).toEqual([alarmId]);
      const rows = await server.sql`select alarm_id from alarm_receipts where alarm_id = ${alarmId}`;
      expect(rows).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('closing while an alarm is being accepted, before the subscription is confirmed, does not hang', async () => {
    // The broker sends a resumed session's alarms before it confirms the subscription made on connecting, and the
    // client takes packets in order: the confirmation waits behind the alarm being stored.
    const away = new Away();
    const first = away.start(storeAlarm);
    await first.ready;
    await first.close();
    await away.publish('JA-GAS-7003', { alarmId: `held-${randomUUID()}`, reading: 315 });

    let received: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    const second = away.start(() => {
      received();
      return new Promise<AlarmOutcome>(() => {});
    });
    await arrived;
    await second.close();
  });

  it('while the database is away an alarm is tried for as long as it takes, and the alarms behind it wait their turn', async () => {
    const away = new Away();
    const stuck = `stuck-${randomUUID()}`;
    const behind = `behind-${randomUUID()}`;
    const calls: string[] = [];
    // More failures than an unforeseen fault is given: the database being away is not given up on.
    let failures = 6;
    const ingest = away.start((alarm) => {
      calls.push(alarm.alarmId);
      if (alarm.alarmId === stuck && failures-- > 0) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
      return storeAlarm(alarm);
    });
    try {
      await ingest.ready;
      await away.publish('JA-GAS-7003', { alarmId: stuck, reading: 320 });
      await away.publish('JA-GAS-7003', { alarmId: behind, reading: 330 });
      await away.receiptOf(behind);
      expect(await away.receiptOf(stuck)).toMatchObject({ alarm_id: stuck });
      expect(calls).toEqual([...Array(7).fill(stuck), behind]);
    } finally {
      await ingest.close();
    }
  });

  it('an alarm refused for good (an unknown sensor) is tried once and does not hold up the next', async () => {
    const away = new Away();
    const unknown = `unknown-${randomUUID()}`;
    const next = `next-${randomUUID()}`;
    const calls: string[] = [];
    const ingest = away.start((alarm) => {
      calls.push(alarm.alarmId);
      return storeAlarm(alarm);
    });
    try {
      await ingest.ready;
      await away.publish('JA-NOT-REGISTERED', { alarmId: unknown });
      await away.publish('JA-GAS-7003', { alarmId: next, reading: 340 });
      await away.receiptOf(next);
      expect(calls).toEqual([unknown, next]);
    } finally {
      await ingest.close();
    }
  });

  it('an alarm that keeps failing in an unforeseen way is given up after five tries, and the alarms behind it go on', async () => {
    const away = new Away();
    const poison = `poison-${randomUUID()}`;
    const after = `after-${randomUUID()}`;
    const calls: string[] = [];
    const ingest = away.start((alarm) => {
      calls.push(alarm.alarmId);
      if (alarm.alarmId === poison) return Promise.reject(new TypeError("Cannot read properties of undefined (reading 'lat')"));
      return storeAlarm(alarm);
    });
    try {
      await ingest.ready;
      await away.publish('JA-GAS-7003', { alarmId: poison, reading: 350 });
      await away.publish('JA-GAS-7003', { alarmId: after, reading: 360 });
      await away.receiptOf(after);
      expect(calls).toEqual([...Array(5).fill(poison), after]);
    } finally {
      await ingest.close();
    }
  });
});
