// Acceptance 3 and 4: GET /api/incidents/:id/state?at= equals folding the stream up to that time, and
// GET /api/city?at= equals a replay of the whole log up to that time, for random times on a generated workload.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersonalDataStore, PersonalDataVault } from '../../api/audit/personalData.ts';
import { eventTime, eventsUpTo, foldView } from '../../api/audit/timeTravel.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { JIAN } from '../api/fixtures.ts';
import { incident, ok, sleep, timeTravelSettled, unit } from './support.ts';
import { readAllSettled } from '../support/settledLog.ts';

let server: TestServer;
let auditor: string;
let opened: PersonalDataStore;
const incidentIds: string[] = [];
const unitIds: string[] = [];
let first = 0;
let last = 0;
const kind = process.env.DATABASE_URL ? 'postgres' : 'pglite';

const AGENCY_UNIT = [
  ['police', 'patrol_car'],
  ['fire', 'engine'],
  ['ems', 'ambulance'],
] as const;

/**
 * A seeded random workload through the API: incidents are reported and each is moved along its life (triage,
 * assignment of a free unit of its agency, en route, on scene, cleared, resolved, closed) in a random
 * interleaving, with notes and unit moves in between.
 */
async function workload(seed: number, steps: number) {
  const random = fc.sample(fc.array(fc.nat({ max: 1_000_000 }), { minLength: steps * 3, maxLength: steps * 3 }), { seed, numRuns: 1 })[0]!;
  let r = 0;
  const pick = <T>(items: readonly T[]): T => items[random[r++ % random.length]! % items.length]!;
  const free = new Map<string, string[]>();
  for (const [agency, type] of AGENCY_UNIT) {
    free.set(agency, []);
    for (let i = 0; i < 2; i++) {
      const u = await unit(server, agency, `${agency}-${i}`, type);
      unitIds.push(u);
      free.get(agency)!.push(u);
    }
  }
  const PHASES = ['triage', 'assign', 'en_route', 'on_scene', 'cleared', 'resolve', 'close'] as const;
  const life = new Map<string, { agency: string; phase: number; unit?: string }>();
  for (let step = 0; step < steps; step++) {
    const open = [...life.entries()].filter(([, l]) => l.phase < PHASES.length);
    const roll = pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    if (open.length < 2 || roll === 0) {
      const type = pick(['fire', 'medical', 'public_order'] as const);
      const agency = type === 'fire' ? 'fire' : type === 'medical' ? 'ems' : 'police';
      const id = await incident(server, `dispatcher.${agency}`, { type, priority: pick([1, 2, 3]), reporter: { name: `Caller ${step}`, phone: `139${String(step).padStart(8, '0')}` } });
      incidentIds.push(id);
      life.set(id, { agency, phase: 0 });
    } else if (roll === 1) {
      const [noted] = pick(open);
      await ok(server, 'admin', `/api/incidents/${noted}/notes`, { text: `step ${step}` });
    } else if (roll === 2) {
      await ok(server, 'admin', `/api/units/${pick(unitIds)}/location`, { lat: JIAN.lat + step / 1000, lng: JIAN.lng - step / 2000 });
    } else {
      const [id, l] = pick(open);
      const base = `/api/incidents/${id}`;
      const phase = PHASES[l.phase]!;
      if (phase === 'triage') await ok(server, 'admin', `${base}/triage`, { priority: pick([1, 2, 3, 4]) });
      if (phase === 'assign') {
        const u = free.get(l.agency)!.shift();
        if (!u) continue;
        await ok(server, 'admin', `${base}/assignments`, { unitId: u });
        l.unit = u;
      }
      if (phase === 'en_route' || phase === 'on_scene') await ok(server, 'admin', `${base}/units/${l.unit}/status`, { status: phase });
      if (phase === 'cleared') {
        await ok(server, 'admin', `${base}/units/${l.unit}/status`, { status: 'cleared' });
        free.get(l.agency)!.push(l.unit!);
      }
      if (phase === 'resolve') await ok(server, 'admin', `${base}/resolve`, { summary: `done at ${step}` });
      if (phase === 'close') await ok(server, 'admin', `${base}/close`, {});
      l.phase++;
    }
    // Business times a few milliseconds apart, so random moments fall between events.
    await sleep(3);
  }
}

beforeAll(async () => {
  server = await startTestServer();
  auditor = await server.login('auditor');
  opened = new PersonalDataStore(server.store, new PersonalDataVault(server.sql));
  await workload(20260301, 90);
  await timeTravelSettled(server);
  const events = await readAllSettled(server.store);
  // Enough history that random moments land in many different states.
  expect(events.length).toBeGreaterThan(80);
  expect(new Set(events.map((e) => e.type)).size).toBeGreaterThan(9);
  first = Math.min(...events.map(eventTime));
  last = Math.max(...events.map(eventTime));
}, 240_000);
afterAll(async () => {
  await server?.close();
});

const moment = () => fc.integer({ min: first - 20, max: last + 20 });

describe(`time travel (${kind})`, () => {
  it('state?at= is the incident folded from its events up to that time, for random incidents and times', async () => {
    const sources = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: incidentIds.length - 1 }), moment(), async (index, at) => {
        const id = incidentIds[index]!;
        const iso = new Date(at).toISOString();
        const response = await server.call('GET', `/api/incidents/${id}/state?at=${encodeURIComponent(iso)}`, { token: auditor });
        const upTo = eventsUpTo(await opened.readStream(`incident-${id}`), Date.parse(iso));
        const expected = foldView('incident', upTo);
        if (!expected) {
          expect(response.status).toBe(404);
          expect(response.body.detail).toMatch(/did not exist/);
          return;
        }
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect(response.body.incident).toEqual(JSON.parse(JSON.stringify(expected)));
        expect(response.body.revision).toBe(upTo.length - 1);
        sources.add(response.body.source);
      }),
      { numRuns: 60 },
    );
    // Both paths were exercised: the read model for settled moments, the stream for the latest.
    expect([...sources].sort()).toEqual(['snapshot', 'stream']);
  }, 120_000);

  it("state?at= shows the reporter's personal data to the auditor as it was reported", async () => {
    const id = incidentIds[0]!;
    const r = await server.call('GET', `/api/incidents/${id}/state?at=${encodeURIComponent(new Date(last + 1000).toISOString())}`, { token: auditor });
    expect(r.body.incident.reporter).toEqual({ name: expect.stringMatching(/^Caller /), phone: expect.stringMatching(/^139/) });
  });

  it('city?at= is every incident and unit as a replay of the whole log up to that time leaves them', async () => {
    const all = await readAllSettled(server.store);
    const byStream = new Map<string, RecordedEvent[]>();
    for (const e of all) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
    await fc.assert(
      fc.asyncProperty(moment(), async (at) => {
        const iso = new Date(at).toISOString();
        const response = await server.call('GET', `/api/city?at=${encodeURIComponent(iso)}`, { token: auditor });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        const incidents: unknown[] = [];
        const units: unknown[] = [];
        for (const [stream, events] of byStream) {
          const entity = stream.startsWith('incident-') ? 'incident' : stream.startsWith('unit-') ? 'unit' : undefined;
          if (!entity) continue;
          const view = foldView(entity, eventsUpTo(events, Date.parse(iso)));
          if (!view) continue;
          if (entity === 'incident') {
            const { reporter: _r, ...rest } = view as { reporter?: unknown };
            incidents.push(rest);
          } else units.push(view);
        }
        const byId = (a: any, b: any) => (a.id < b.id ? -1 : 1);
        expect([...response.body.incidents].sort(byId)).toEqual(JSON.parse(JSON.stringify(incidents.sort(byId))));
        expect([...response.body.units].sort(byId)).toEqual(JSON.parse(JSON.stringify(units.sort(byId))));
        // How far the read model has got: the newest business time of the whole log (it is settled).
        expect(response.body.projectedThrough).toBe(new Date(last).toISOString());
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('answers bad moments and unknown incidents with a problem that says what is wrong, and keeps the city to auditors', async () => {
    const bad = await server.call('GET', `/api/incidents/${incidentIds[0]}/state?at=yesterday`, { token: auditor });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    expect(bad.body.detail).toMatch(/at/);
    expect((await server.call('GET', `/api/incidents/${incidentIds[0]}/state`, { token: auditor })).status).toBe(400);
    expect((await server.call('GET', `/api/incidents/${incidentIds[0]}/state?at=2026-01-01T00:00:00Z&x=1`, { token: auditor })).status).toBe(400);
    const unknown = await server.call('GET', `/api/incidents/no-such-incident/state?at=${new Date(last).toISOString()}`, { token: auditor });
    expect(unknown.status).toBe(404);
    expect((await server.call('GET', `/api/city?at=${new Date(last).toISOString()}`, { token: await server.login('dispatcher.police') })).status).toBe(403);
    expect((await server.call('GET', `/api/city?at=${new Date(last).toISOString()}`)).status).toBe(401);
  });
});
