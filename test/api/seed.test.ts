import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_UNITS, DEMO_USERS, demoIncidentId, seedDemoCity } from '../../api/seed/demoCity.ts';
import { DEMO_INCIDENTS } from '../../api/seed/demoIncidents.ts';
import { AGENCIES, incidentStream, UNIT_TYPES, unitStream } from '../../domain/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually } from './liveClient.ts';

// The demo city of Ji'an: every agency staffed and logged in, a few incidents under way, seeded once.

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({ demoUsers: false });
});

afterAll(async () => {
  await s?.close();
});

/** Events in the demo city's streams, read stream by stream (exact, whatever the global log lets through yet). */
async function storedEvents(server = s): Promise<number> {
  const streams = [...DEMO_UNITS.map((u) => unitStream(u.unitId)), ...DEMO_INCIDENTS.map((i) => incidentStream(demoIncidentId(i)))];
  const counts = await Promise.all(streams.map(async (stream) => (await server.store.readStream(stream)).length));
  return counts.reduce((a, b) => a + b, 0);
}

/** Waits until the read models hold every event of the demo city. */
async function projected(): Promise<void> {
  await s.settle();
  const total = await storedEvents();
  await eventually(async () => {
    const [row] = await s.sql<{ n: number }[]>`select count(*)::int as n from event_log`;
    return row!.n >= total ? true : undefined;
  }, `${total} events projected`);
}

describe('demo city seed', () => {
  it('seeds users, units and incidents once; a second seed writes nothing', async () => {
    const first = await seedDemoCity({ store: s.store, sql: s.sql });
    expect(first).toEqual({ skipped: false, usersCreated: DEMO_USERS.length, unitsRegistered: DEMO_UNITS.length, incidentsReported: DEMO_INCIDENTS.length });
    const events = await storedEvents();
    const [users] = await s.sql<{ n: number }[]>`select count(*)::int as n from users`;

    const second = await seedDemoCity({ store: s.store, sql: s.sql });
    expect(second).toEqual({ skipped: true, usersCreated: 0, unitsRegistered: 0, incidentsReported: 0 });
    expect(await storedEvents()).toBe(events);
    const [usersAfter] = await s.sql<{ n: number }[]>`select count(*)::int as n from users`;
    expect(usersAfter!.n).toBe(users!.n);
  });

  it('staffs every agency with units of its own types at stations across the city', async () => {
    await projected();
    const units = await s.sql<{ agency: string; unit_type: string; lat: number; lng: number; home_station: string; call_sign: string }[]>`
      select agency, unit_type, lat, lng, home_station, call_sign from unit_board`;
    expect(units.length).toBeGreaterThanOrEqual(40);
    expect(units.length).toBeLessThanOrEqual(60);
    for (const agency of AGENCIES) {
      const own = units.filter((u) => u.agency === agency);
      expect(own.length, agency).toBeGreaterThan(0);
      const types = UNIT_TYPES.filter((t) => t.agency === agency).map((t) => t.id);
      expect(own.every((u) => (types as string[]).includes(u.unit_type)), agency).toBe(true);
    }
    // Every unit type of the catalogue is on the map.
    expect(new Set(units.map((u) => u.unit_type))).toEqual(new Set(UNIT_TYPES.map((t) => t.id)));
    for (const u of units) {
      expect(u.lat).toBeGreaterThanOrEqual(27.05);
      expect(u.lat).toBeLessThanOrEqual(27.16);
      expect(u.lng).toBeGreaterThanOrEqual(114.9);
      expect(u.lng).toBeLessThanOrEqual(115.06);
      expect(u.home_station).toMatch(/[\u4e00-\u9fff].* [A-Za-z]/);
    }
    expect(new Set(units.map((u) => u.call_sign)).size).toBe(units.length);
    expect(new Set(units.map((u) => u.home_station)).size).toBeGreaterThanOrEqual(15);
  });

  it('registers units as the system, with an admin role, on the audit trail', async () => {
    const registered = (await s.store.readAll({ streamPrefixes: ['unit-'] })).filter((e) => e.type === 'UnitRegistered');
    expect(registered).toHaveLength(DEMO_UNITS.length);
    for (const e of registered) expect(e.metadata).toMatchObject({ actor: 'system', role: 'admin' });
  });

  it('creates a dispatcher and a supervisor for every agency, an auditor and an admin, all with password demo', async () => {
    for (const agency of AGENCIES) {
      for (const role of ['dispatcher', 'supervisor']) {
        expect(DEMO_USERS).toContainEqual(expect.objectContaining({ username: `${role}.${agency}`, role, agency, password: 'demo' }));
      }
    }
    expect(DEMO_USERS.map((u) => u.username)).toEqual(expect.arrayContaining(['auditor', 'admin']));
    for (const user of DEMO_USERS) {
      const token = await s.login(user.username, 'demo');
      const me = await s.call('GET', '/api/auth/me', { token });
      expect(me.body).toMatchObject({ username: user.username, role: user.role, agency: user.agency });
    }
  });

  it('leaves a handful of open incidents at different stages for the map', async () => {
    await projected();
    const incidents = await s.sql<{ status: string; agencies: string[]; units: string[]; lat: number; lng: number }[]>`
      select status, agencies, units, lat, lng from incident_board`;
    expect(incidents).toHaveLength(DEMO_INCIDENTS.length);
    expect(incidents.every((i) => ['reported', 'triaged', 'dispatched', 'on_scene'].includes(i.status))).toBe(true);
    expect(new Set(incidents.map((i) => i.status)).size).toBeGreaterThanOrEqual(3);
    expect(incidents.some((i) => i.units.length >= 2)).toBe(true);
    const busy = await s.sql<{ n: number }[]>`select count(*)::int as n from unit_board where incident_id is not null`;
    expect(busy[0]!.n).toBe(incidents.reduce((n, i) => n + i.units.length, 0));
  });
});

/** What one seed alone writes (measured on the first suite's city). */
let oneSeed: number | undefined;
async function storedEventsOfOneSeed(): Promise<number> {
  oneSeed ??= await storedEvents();
  return oneSeed;
}

describe('demo city seed racing itself', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ demoUsers: false });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('writes every fact once when two seeds start together on an empty city', async () => {
    const results = await Promise.all([seedDemoCity({ store: t.store, sql: t.sql }), seedDemoCity({ store: t.store, sql: t.sql })]);
    expect(results.reduce((n, r) => n + r.unitsRegistered, 0)).toBe(DEMO_UNITS.length);
    expect(results.reduce((n, r) => n + r.incidentsReported, 0)).toBe(DEMO_INCIDENTS.length);
    const streams = [...DEMO_UNITS.map((u) => unitStream(u.unitId)), ...DEMO_INCIDENTS.map((i) => incidentStream(demoIncidentId(i)))];
    const events = (await Promise.all(streams.map((stream) => t.store.readStream(stream)))).flat();
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.filter((e) => e.type === 'UnitRegistered')).toHaveLength(DEMO_UNITS.length);
    expect(events.filter((e) => e.type === 'IncidentReported')).toHaveLength(DEMO_INCIDENTS.length);
    // Each command's events once: the same command id never appears twice in a stream with a new event id.
    expect(await storedEvents(t)).toBe(await storedEventsOfOneSeed());
    const [users] = await t.sql<{ n: number }[]>`select count(*)::int as n from users`;
    expect(users!.n).toBe(DEMO_USERS.length);
  });
});
