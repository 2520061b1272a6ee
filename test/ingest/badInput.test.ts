import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders } from '../../api/ingest/signature.ts';
import { SENSOR_KIND_IDS } from '../../api/ingest/sensors.ts';
import { allEvents, expectStatus } from '../api/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// Random bodies at the alarm webhook (correctly signed, so the body itself is what is judged), the sensor
// registry and the import batch: never a 5xx, always a problem document, and only accepted requests write.

const RUNS = Number(process.env.BAD_INPUT_RUNS ?? 150);
const KEY = 'bad-input-key-0123456789abcdef0123456789';

let server: TestServer;
let admin: string;

beforeAll(async () => {
  server = await startTestServer({ config: { ingestSources: { probe: KEY } } });
  admin = await server.login('admin');
  expectStatus(await server.call('POST', '/api/sensors', { token: admin, body: { id: 'PROBE-1', kind: 'water_level', location: { lat: 27.11, lng: 115.0 } } }), 201);
});
afterAll(async () => {
  await server?.close();
});

const hostile = fc.oneof(fc.anything(), fc.constantFrom(0, -1, 1e308, '', ' ', null, true, [], {}, '2020-13-45T99:00:00Z'), fc.string({ maxLength: 30 }));

function mutated(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return valid.chain((body) => {
    const key = fc.constantFrom(...Object.keys(body));
    return fc.oneof(
      fc.tuple(key, hostile).map(([k, v]) => ({ ...body, [k]: v })),
      fc.tuple(fc.string({ maxLength: 12 }), fc.anything()).map(([k, v]) => ({ ...body, [k]: v })),
      key.map((k) => Object.fromEntries(Object.entries(body).filter(([name]) => name !== k))),
      fc.constant([body]),
      fc.anything(),
    );
  });
}

const raw = (value: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: value.map((v) => JSON.stringify(v) ?? 'null'), weight: 5 }, { arbitrary: fc.string({ maxLength: 40 }), weight: 1 });

async function storm(name: string, body: fc.Arbitrary<string>, send: (raw: string) => Promise<Response>): Promise<Set<number>> {
  const statuses = new Set<number>();
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      const response = await send(text);
      const answer = await response.text();
      statuses.add(response.status);
      if (response.status >= 500) throw new Error(`${name}: ${response.status} for ${text.slice(0, 200)}: ${answer}`);
      if (response.status >= 400) {
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(answer).detail).toEqual(expect.any(String));
      }
    }),
    { numRuns: RUNS },
  );
  return statuses;
}

describe(`bad input at the ingest and import routes (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('the signed webhook answers 4xx problems to broken alarms and writes nothing for them', async () => {
    const before = (await allEvents(server)).length;
    const validAlarm = fc.record({ alarmId: fc.uuid().map((u) => `p-${u}`), sensorId: fc.constantFrom('PROBE-1', 'NOPE'), reading: fc.double({ noNaN: true, noDefaultInfinity: true }) });
    const statuses = await storm('webhook', raw(mutated(validAlarm)), (text) =>
      fetch(`${server.baseUrl}/api/ingest/alarms`, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders('probe', KEY, text) }, body: text }),
    );
    expect([...statuses].some((s) => s === 400)).toBe(true);
    const opened = await server.sql<{ n: number }[]>`select count(distinct incident_id)::int as n from alarm_receipts`;
    const attached = await server.sql<{ n: number }[]>`select count(*)::int as n from alarm_receipts where outcome = 'attached'`;
    // Whatever was accepted opened at most one incident (one sensor) and attached the rest as notes.
    expect((await allEvents(server)).length).toBe(before + opened[0]!.n + attached[0]!.n);
  });

  it('the sensor registry refuses bad sensors with 400', async () => {
    const validSensor = fc.record({ id: fc.constantFrom('S-A', 'S-B'), kind: fc.constantFrom(...SENSOR_KIND_IDS), location: fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lng: fc.double({ min: -180, max: 180, noNaN: true }) }) });
    const statuses = await storm('sensors', raw(mutated(validSensor)), (text) =>
      fetch(`${server.baseUrl}/api/sensors`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: text }),
    );
    expect(statuses.has(400)).toBe(true);
  });

  it('the import batch refuses malformed batches and items, and never writes for a refused batch', async () => {
    const before = (await allEvents(server)).length;
    const item = fc.record({
      kind: fc.constantFrom('report', 'close', 'nonsense'),
      key: fc.string({ minLength: 1, maxLength: 10 }),
      occurredAt: fc.constantFrom('2020-04-07T07:00:00Z', 'yesterday', '2999-01-01T00:00:00Z'),
      incidentId: fc.uuid(),
    });
    const statuses = await storm('batch', raw(fc.oneof(mutated(fc.record({ items: fc.array(item, { minLength: 1, maxLength: 3 }) })), fc.record({ items: fc.array(item, { maxLength: 3 }) }))), (text) =>
      fetch(`${server.baseUrl}/api/import/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: text }),
    );
    expect(statuses.has(400)).toBe(true);
    // No item above is a complete report, so nothing can have been written.
    expect((await allEvents(server)).length).toBe(before);
  });
});
