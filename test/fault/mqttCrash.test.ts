// Crash with alarms arriving: the real server as its own process takes a steady stream of MQTT alarms and is killed
// with SIGKILL at moments nobody chose, then restarted with the same broker session. Every alarm the broker took
// from the sensors must be stored exactly once: none lost in the broker's hands, in the inbox or half stored, and
// none stored twice (a redelivered alarm, or one stored again after its receipt was lost).
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { connectStore } from '../../eventstore/connect.ts';
import { DEMO_SENSORS } from '../../api/ingest/demoSensors.ts';
import { alarmTopic } from '../../api/ingest/mqtt.ts';
import { callChild, loginChild, startChildServer, type ChildServer } from '../support/childServer.ts';
import { crashStore, crashTargets, faultSeed, seededRandom } from './targets.ts';

const BROKER = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const KILLS = 3;
/** Alarms a second from the sensors: what the broker queues while the server is down (a restart can take 10 s or more on
 * a loaded machine) stays well under its 1,000. */
const RATE = 30;

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(crashTargets())('the server killed with SIGKILL while MQTT alarms arrive, on $title', ({ kind }) => {
  it(`stores every alarm the broker took exactly once, over ${KILLS} kills`, async () => {
    const seed = faultSeed();
    const rnd = seededRandom(seed);
    const { server: store, store: storeConfig } = await crashStore(kind, (fn) => cleanups.push(fn));
    const run = randomUUID().slice(0, 8);
    const prefix = `citybrain-crash/${run}`;
    const clientId = `citybrain-crash-ingest-${run}`;
    const serverOptions = { ...store, env: { MQTT_URL: BROKER, MQTT_TOPIC_PREFIX: prefix, MQTT_CLIENT_ID: clientId } };
    cleanups.push(async () => (await mqtt.connectAsync(BROKER, { clientId, clean: true })).endAsync());

    let server: ChildServer = await startChildServer(serverOptions);
    cleanups.push(() => server.kill());
    const publisher = await mqtt.connectAsync(BROKER, { clientId: `citybrain-crash-publisher-${run}` });
    cleanups.push(() => publisher.endAsync(true));

    // The sensors: a steady stream over the ten demo sensors, each alarm acknowledged by the broker (QoS 1) before it
    // counts as sent. It goes on while the server is down; the broker keeps them for the server's session.
    const taken: string[] = [];
    let publishing = true;
    const sensors = (async () => {
      for (let i = 0; publishing; i++) {
        const sensor = DEMO_SENSORS[i % DEMO_SENSORS.length]!;
        const alarmId = `crash-${run}-${i}`;
        await publisher.publishAsync(alarmTopic(prefix, sensor.id), JSON.stringify({ alarmId, sensorId: sensor.id }), { qos: 1 });
        taken.push(alarmId);
        await sleep(1000 / RATE);
      }
    })();

    const killedAfter: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const delay = 300 + Math.floor(rnd() * 1500);
      killedAfter.push(delay);
      await sleep(delay);
      await server.kill();
      server = await startChildServer(serverOptions);
    }
    publishing = false;
    await sensors;

    // Until the inbox has nothing waiting, several looks in a row: the broker hands over what it kept at its pace.
    const token = await loginChild(server.baseUrl, 'admin');
    let quiet = 0;
    const deadline = Date.now() + 120_000;
    while (quiet < 4 && Date.now() < deadline) {
      const inbox = await callChild(server.baseUrl, 'GET', '/api/ingest/inbox', { token });
      quiet = inbox.status === 200 && inbox.body.waiting === 0 && inbox.body.givenUpCount === 0 ? quiet + 1 : 0;
      await sleep(500);
    }
    await server.stop();
    console.info(`[mqtt crash ${kind}] seed ${seed}, killed ${killedAfter.join(', ')} ms apart; ${taken.length} alarms sent`);

    const connected = await connectStore(storeConfig);
    try {
      const { sql } = connected;
      const receipts = await sql<{ alarm_id: string }[]>`select alarm_id from alarm_receipts where alarm_id like ${`crash-${run}-%`}`;
      const missing = taken.filter((id) => !receipts.some((r) => r.alarm_id === id));
      expect(missing, 'alarms the broker took that were never stored').toEqual([]);
      expect(receipts).toHaveLength(taken.length);

      // Each alarm is one fact in the log: the report that opened its sensor's incident, or one note on it.
      const facts = await sql<{ text: string }[]>`
        select coalesce(data->>'text', data->>'description') as text from events
         where type in ('IncidentReported', 'IncidentNoteAdded') and metadata->>'actor' like 'sensor:%'`;
      const times = new Map<string, number>();
      for (const { text } of facts) {
        const id = /raised alarm (crash-[0-9a-f]+-\d+)/.exec(text)?.[1];
        if (id) times.set(id, (times.get(id) ?? 0) + 1);
      }
      expect(
        [...times].filter(([, n]) => n > 1),
        'alarms stored twice',
      ).toEqual([]);
      expect([...times.keys()].sort()).toEqual([...taken].sort());
      // One incident per sensor: every alarm after the first attached to it.
      const reported = await sql<{ n: number }[]>`select count(*)::int as n from events where type = 'IncidentReported' and metadata->>'actor' like 'sensor:%'`;
      expect(reported[0]!.n).toBe(DEMO_SENSORS.length);
      const left = await sql<{ n: number }[]>`select count(*)::int as n from alarm_inbox`;
      expect(left[0]!.n).toBe(0);
    } finally {
      await connected.close();
    }
  }, 600_000);
});
