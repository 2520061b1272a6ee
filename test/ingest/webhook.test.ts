import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAlarmRequest, signedHeaders, SIGNATURE_HEADER, SOURCE_HEADER, TIMESTAMP_HEADER } from '../../api/ingest/signature.ts';
import { allEvents, expectProblem, expectStatus } from '../api/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const KEY = 'smoke-net-key-0123456789abcdef0123456789';
const OTHER_KEY = 'city-gas-key-abcdef0123456789abcdef012345';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ config: { ingestSources: { 'smoke-net': KEY, 'city-gas': OTHER_KEY }, ingestMaxSkewSeconds: 300 } });
  const admin = await server.login('admin');
  const sensor = await server.call('POST', '/api/sensors', {
    token: admin,
    body: { id: 'JA-SMK-9001', kind: 'smoke_alarm', location: { lat: 27.1172, lng: 114.9801 }, address: '吉州区 人民广场 百货大楼 5F' },
  });
  expectStatus(sensor, 201);
  expect(sensor.body).toMatchObject({ id: 'JA-SMK-9001', incidentType: 'fire_alarm', episode: 0 });
});
afterAll(async () => {
  await server?.close();
});

/** POSTs a raw body with the given headers. */
function post(raw: string, headers: Record<string, string>) {
  return server.call('POST', '/api/ingest/alarms', { body: raw, headers: { 'content-type': 'application/json', ...headers } });
}

const alarm = (alarmId: string, extra: Record<string, unknown> = {}) => JSON.stringify({ alarmId, sensorId: 'JA-SMK-9001', reading: 0.31, message: 'smoke in the stairwell', ...extra });

describe(`the signed alarm webhook (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('accepts a signed alarm: it opens an incident from the sensor, and the same alarm id again writes nothing', async () => {
    const raw = alarm('A-1');
    const accepted = await post(raw, signedHeaders('smoke-net', KEY, raw));
    expectStatus(accepted, 201);
    expect(accepted.body).toEqual({ alarmId: 'A-1', sensorId: 'JA-SMK-9001', incidentId: expect.any(String), outcome: 'opened', duplicate: false });
    await server.settle();
    const incident = await server.call('GET', `/api/incidents/${accepted.body.incidentId}`, { token: await server.login('auditor') });
    expectStatus(incident, 200);
    expect(incident.body).toMatchObject({ type: 'fire_alarm', source: 'sensor', location: { lat: 27.1172, lng: 114.9801 }, address: '吉州区 人民广场 百货大楼 5F', status: 'reported' });

    const before = (await allEvents(server)).length;
    // The gateway retries the same alarm, signed anew: the same answer, nothing new.
    const again = await post(raw, signedHeaders('smoke-net', KEY, raw, Math.floor(Date.now() / 1000) + 1));
    expectStatus(again, 200);
    expect(again.body).toEqual({ ...accepted.body, duplicate: true });
    expect((await allEvents(server)).length).toBe(before);
  });

  it('refuses unsigned, wrongly signed, replayed and stale requests with a problem saying why, and writes nothing', async () => {
    const before = await allEvents(server);
    const receipts = await server.sql`select count(*)::int as n from alarm_receipts`;

    const raw = alarm('A-2');
    const now = Math.floor(Date.now() / 1000);

    const unsigned = await post(raw, {});
    expectProblem(unsigned, 401);
    expect(unsigned.body.type).toMatch(/signature-missing$/);
    expect(unsigned.body.detail).toMatch(/not signed/);

    const noSignature = await post(raw, { [SOURCE_HEADER]: 'smoke-net', [TIMESTAMP_HEADER]: String(now) });
    expectProblem(noSignature, 401);
    expect(noSignature.body.detail).toContain(SIGNATURE_HEADER);

    const wrongKey = await post(raw, signedHeaders('smoke-net', OTHER_KEY, raw));
    expectProblem(wrongKey, 401);
    expect(wrongKey.body.type).toMatch(/bad-signature$/);

    const tampered = await post(alarm('A-2', { reading: 9.99 }), signedHeaders('smoke-net', KEY, raw));
    expectProblem(tampered, 401);
    expect(tampered.body.type).toMatch(/bad-signature$/);

    const unknownSource = await post(raw, signedHeaders('someone-else', KEY, raw));
    expectProblem(unknownSource, 401);
    expect(unknownSource.body.type).toMatch(/unknown-source$/);

    // A captured request from ten minutes ago, correctly signed for its own time.
    const signedAt = Math.floor(Date.now() / 1000) - 600;
    const sentAt = Date.now();
    const stale = await post(raw, signedHeaders('smoke-net', KEY, raw, signedAt));
    const answeredAt = Date.now();
    expectProblem(stale, 401);
    expect(stale.body.type).toMatch(/stale-timestamp$/);
    expect(stale.body.detail).toMatch(/^This request was signed \d+ s ago; only ±300 s are accepted\./);
    // The server reads its own clock somewhere between sending and the answer.
    const ago = Number(/signed (\d+) s ago/.exec(stale.body.detail)?.[1]);
    expect(ago).toBeGreaterThanOrEqual(Math.round(sentAt / 1000 - signedAt));
    expect(ago).toBeLessThanOrEqual(Math.round(answeredAt / 1000 - signedAt));

    // A good signature over a different time is still a bad signature.
    const movedTime = await post(raw, { [SOURCE_HEADER]: 'smoke-net', [TIMESTAMP_HEADER]: String(now), [SIGNATURE_HEADER]: signAlarmRequest(KEY, now - 600, raw) });
    expectProblem(movedTime, 401);

    // Signed, but not an alarm we understand: 400, never 401.
    const extra = alarm('A-2', { severity: 'high' });
    const unknownProperty = await post(extra, signedHeaders('smoke-net', KEY, extra));
    expectProblem(unknownProperty, 400);
    expect(unknownProperty.body.detail).toMatch(/severity/);

    const unregistered = JSON.stringify({ alarmId: 'A-3', sensorId: 'NO-SUCH-SENSOR' });
    const unknownSensor = await post(unregistered, signedHeaders('smoke-net', KEY, unregistered));
    expectProblem(unknownSensor, 422);
    expect(unknownSensor.body.detail).toMatch(/not in the sensor registry/);

    expect(await allEvents(server)).toEqual(before);
    expect(await server.sql`select count(*)::int as n from alarm_receipts`).toEqual(receipts);
  });

  it('refuses the exact same signed request sent twice, after accepting it once', async () => {
    const raw = alarm('A-4');
    const headers = signedHeaders('smoke-net', KEY, raw);
    const first = await post(raw, headers);
    expect([200, 201]).toContain(first.status);
    const count = (await allEvents(server)).length;

    const replayed = await post(raw, headers);
    expectProblem(replayed, 401);
    expect(replayed.body.type).toMatch(/replayed-request$/);
    expect((await allEvents(server)).length).toBe(count);
  });

  it('attaches further alarms from a sensor to its open incident, and opens a new one once that incident is over', async () => {
    const first = alarm('B-1');
    const opened = await post(first, signedHeaders('smoke-net', KEY, first));
    const incidentId = opened.body.incidentId as string;
    expect(opened.body.outcome).not.toBe(undefined);
    const second = alarm('B-2');
    const attached = await post(second, signedHeaders('smoke-net', KEY, second));
    expectStatus(attached, 200);
    expect(attached.body).toMatchObject({ incidentId, outcome: 'attached', duplicate: false });

    const dispatcher = await server.login('dispatcher.fire');
    const cancelled = await server.call('POST', `/api/incidents/${incidentId}/cancel`, { token: dispatcher, body: { reason: 'False alarm: burnt toast' } });
    expectStatus(cancelled, 200);

    const third = alarm('B-3');
    const reopened = await post(third, signedHeaders('smoke-net', KEY, third));
    expectStatus(reopened, 201);
    expect(reopened.body.outcome).toBe('opened');
    expect(reopened.body.incidentId).not.toBe(incidentId);
  });
});
