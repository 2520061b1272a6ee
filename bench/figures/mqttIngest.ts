import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import postgres from 'postgres';
import { alarmTopic } from '../../api/ingest/mqtt.ts';
import { DEMO_SENSORS } from '../../api/ingest/demoSensors.ts';
import { freshDatabase, POSTGRES_URL, startChildServer } from '../support.ts';
import type { Figure, Row } from '../harness.ts';

const BROKER = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** One alarm as a sensor's gateway publishes it; each a new id, spread over the demo city's sensors. */
function alarmMessage(i: number, run: string): { topic: string; payload: string } {
  const sensor = DEMO_SENSORS[i % DEMO_SENSORS.length]!;
  const payload = JSON.stringify({ alarmId: `bench-${run}-${i}`, sensorId: sensor.id, reading: 40 + (i % 50), message: 'bench storm' });
  return { topic: alarmTopic(`bench-${run}`, sensor.id), payload };
}

async function publishAll(publisher: mqtt.MqttClient, count: number, run: string, from = 0): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, k) => {
      const { topic, payload } = alarmMessage(from + k, run);
      return publisher.publishAsync(topic, payload, { qos: 1 });
    }),
  );
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The broker's own rate as the ingest takes from it: one QoS 1 subscriber with a persistent session, whose
 * handleMessage calls back at once (mqtt.js then acknowledges and hands over the next message), for the same
 * alarms published at once.
 */
async function brokerCeiling(count: number): Promise<number> {
  const run = randomUUID().slice(0, 8);
  const subscriber = await mqtt.connectAsync(BROKER, { clientId: `citybrain-bench-sub-${run}`, clean: false });
  const publisher = await mqtt.connectAsync(BROKER, { clientId: `citybrain-bench-pub-${run}` });
  try {
    let received = 0;
    subscriber.handleMessage = (packet, callback) => {
      if (packet.cmd === 'publish') received++;
      callback();
    };
    await subscriber.subscribeAsync(alarmTopic(`bench-${run}`, '+'), { qos: 1 });
    const started = performance.now();
    await publishAll(publisher, count, run);
    await until(async () => received >= count, 60_000, 'the broker to deliver every message');
    return count / ((performance.now() - started) / 1000);
  } finally {
    await publisher.endAsync(true);
    // clean: true on the way out leaves no session behind on the broker.
    await subscriber.endAsync(true);
    await (await mqtt.connectAsync(BROKER, { clientId: `citybrain-bench-sub-${run}`, clean: true })).endAsync();
  }
}

/**
 * Alarms per second through MQTT: a storm of alarms from the demo city's ten sensors, published at once at QoS 1,
 * taken by the server's ingest (acknowledged once in its inbox, then stored as an incident or a note on its sensor's
 * open incident), timed from the first publish until the last alarm is in the inbox, and until its receipt is in the
 * database. Beside it the broker's own rate to one subscriber that stores nothing. Then a storm larger than the
 * broker's default queue, and how much of it is stored. PostgreSQL only: the receipts are counted in its database.
 */
export const mqttIngest: Figure = {
  name: 'mqtt',
  async run({ quick }) {
    // Under Mosquitto's default max_queued_messages (1,000 a client): a storm that outruns the ingest by more is dropped
    // by the broker (see the README's MQTT section).
    const count = quick ? 300 : 800;
    if (!POSTGRES_URL) return [];
    try {
      await (await mqtt.connectAsync(BROKER, { connectTimeout: 3000, reconnectPeriod: 0 })).endAsync();
    } catch (error) {
      return [{ figure: 'MQTT alarms ingested', setup: 'no broker', value: Number.NaN, unit: 'alarms/s', notes: `no MQTT broker at ${BROKER}: ${(error as Error).message}` }];
    }
    const ceiling = await brokerCeiling(count);
    const run = randomUUID().slice(0, 8);
    const db = await freshDatabase('postgres');
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": flags for the server under test (profiling).
    const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean);
    const server = await startChildServer({
      ...(nodeArgs && { nodeArgs }),
      databaseUrl: db.url,
      env: { MQTT_URL: BROKER, MQTT_TOPIC_PREFIX: `bench-${run}`, MQTT_CLIENT_ID: `citybrain-bench-ingest-${run}` },
    });
    const publisher = await mqtt.connectAsync(BROKER, { clientId: `citybrain-bench-pub-${run}` });
    const receipts = async () => Number((await sql<{ n: string }[]>`select count(*)::text as n from alarm_receipts`)[0]!.n);
    // Alarms taken from the broker: rows ever put in the inbox (its identity counts them; a stored alarm's row goes).
    const accepted = async () => Number((await sql<{ n: string | null }[]>`select pg_sequence_last_value(pg_get_serial_sequence('alarm_inbox', 'id'))::text as n`)[0]!.n ?? 0);
    try {
      // One alarm per sensor first: the ingest is subscribed, and each sensor's incident is open, so the storm measures
      // alarms attached to open incidents as well as none that wait for a subscription.
      await publishAll(publisher, DEMO_SENSORS.length, run, count);
      await until(async () => (await receipts()) >= DEMO_SENSORS.length, 60_000, 'the first alarms to be stored');
      const before = await receipts();
      const acceptedBefore = await accepted();
      const started = performance.now();
      let acceptedMs = Number.NaN;
      await publishAll(publisher, count, run);
      await until(
        async () => {
          if (Number.isNaN(acceptedMs) && (await accepted()) >= acceptedBefore + count) acceptedMs = performance.now() - started;
          return (await receipts()) >= before + count;
        },
        120_000,
        'every alarm to be stored',
      );
      const perSecond = count / ((performance.now() - started) / 1000);
      const acceptedPerSecond = count / (acceptedMs / 1000);
      const [incidents] = await sql<{ n: string }[]>`select count(distinct incident_id)::text as n from alarm_receipts`;
      const rows: Row[] = [
        {
          figure: 'MQTT alarms ingested',
          setup: `postgres, ${count} alarms from ${DEMO_SENSORS.length} sensors, QoS 1`,
          value: perSecond,
          unit: 'alarms/s',
          ceiling,
          ratio: perSecond / ceiling,
          notes: `ceiling: the broker to one QoS 1 subscriber that stores nothing; ${incidents!.n} incidents; until every alarm is stored (its receipt written). Each is acknowledged once it is in the inbox, and stored from there, the sensors side by side`,
        },
        {
          figure: 'MQTT alarms taken from the broker',
          setup: `postgres, the same ${count} alarms`,
          value: acceptedPerSecond,
          unit: 'alarms/s',
          ceiling,
          ratio: acceptedPerSecond / ceiling,
          notes: 'until the last alarm is in the inbox (and acknowledged): the rate at which the broker\'s queue for the ingest drains',
        },
      ];
      // A storm beyond the broker's default queue (Mosquitto: 1,000 messages a client): how much of it reaches the log.
      const storm = quick ? 1_000 : 2_000;
      const stormBefore = await receipts();
      await publishAll(publisher, storm, run, count + DEMO_SENSORS.length);
      let last = -1;
      let steadySince = performance.now();
      await until(
        async () => {
          const now = (await receipts()) - stormBefore;
          if (now !== last) {
            last = now;
            steadySince = performance.now();
          }
          return now >= storm || performance.now() - steadySince > 3000;
        },
        180_000,
        'the storm to be stored or to stop arriving',
      );
      rows.push({
        figure: 'MQTT storm stored',
        setup: `postgres, ${storm} alarms published at once, the broker's queue as configured`,
        value: (100 * last) / storm,
        unit: '% stored',
        notes: `${last} of ${storm} stored; Mosquitto's default queue holds 1,000 messages for a client, and drops the rest of a storm that outruns the ingest`,
      });
      const peak = server.peakRssMiB();
      if (peak !== undefined) for (const row of rows) row.peakRssMiB = peak;
      return rows;
    } finally {
      await publisher.endAsync(true);
      await server.stop();
      await (await mqtt.connectAsync(BROKER, { clientId: `citybrain-bench-ingest-${run}`, clean: true })).endAsync();
      await sql.end();
      await db.close();
    }
  },
};
