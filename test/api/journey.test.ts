import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { command, JIAN, registerUnit, sleep } from './fixtures.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe(`an injury accident from report to close (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('is recorded, projected and measured exactly as it happened', async () => {
    const trafficUnit = await registerUnit(server, 'traffic', 'JT-01');
    const emsUnit = await registerUnit(server, 'ems', 'EMS-07');
    const from = new Date(Date.now() - 1000).toISOString();

    const reported = await command(
      server,
      'dispatcher.traffic',
      '/api/incidents',
      {
        type: 'traffic_accident_injuries',
        priority: 2,
        location: JIAN,
        address: '吉州区 井冈山大道与阳明路交叉口',
        description: 'Two cars, one driver trapped',
        source: 'phone',
        reporter: { name: '王先生', phone: '13800000000' },
      },
      201,
    );
    const id = reported.body.id as string;
    expect(reported.body).toEqual({ id, revision: 0, commandId: expect.any(String) });
    expect(reported.headers.get('etag')).toBe('"0"');
    expect(reported.headers.get('location')).toBe(`/api/incidents/${id}`);
    const base = `/api/incidents/${id}`;

    // Small pauses so each milestone is measurably later than the one before.
    await sleep(30);
    expect((await command(server, 'dispatcher.traffic', `${base}/triage`, { priority: 1 })).body.revision).toBe(1);
    await sleep(30);
    const assigned = await command(server, 'dispatcher.traffic', `${base}/assignments`, { unitId: trafficUnit });
    expect(assigned.body).toMatchObject({ id, revision: 2, unitId: trafficUnit, unitRevision: 1 });
    expect(assigned.headers.get('etag')).toBe('"2"');
    await command(server, 'dispatcher.ems', `${base}/assignments`, { unitId: emsUnit });

    await sleep(30);
    await command(server, 'supervisor.traffic', `${base}/units/${trafficUnit}/status`, { status: 'en_route' });
    await sleep(30);
    await command(server, 'supervisor.traffic', `${base}/units/${trafficUnit}/status`, { status: 'on_scene' });
    await command(server, 'supervisor.ems', `${base}/units/${emsUnit}/status`, { status: 'en_route' });
    await command(server, 'supervisor.ems', `${base}/units/${emsUnit}/status`, { status: 'on_scene' });
    await sleep(30);
    await command(server, 'supervisor.traffic', `${base}/units/${trafficUnit}/status`, { status: 'cleared' });
    const lastClear = await command(server, 'supervisor.ems', `${base}/units/${emsUnit}/status`, { status: 'cleared' });
    expect(lastClear.body).toMatchObject({ revision: 9, unitId: emsUnit, unitRevision: 4 });

    await command(server, 'dispatcher.traffic', `${base}/resolve`, { summary: 'Driver freed and taken to hospital; road reopened.' });
    const closed = await command(server, 'dispatcher.traffic', `${base}/close`, {});
    expect(closed.body.revision).toBe(11);
    const to = new Date(Date.now() + 1000).toISOString();

    await server.settle();
    const auditor = await server.login('auditor');

    // The incident as the board shows it.
    const incident = await server.call('GET', base, { token: await server.login('dispatcher.ems') });
    expect(incident.status).toBe(200);
    expect(incident.headers.get('etag')).toBe('"11"');
    expect(incident.body).toMatchObject({
      id,
      status: 'closed',
      type: 'traffic_accident_injuries',
      priority: 1,
      location: JIAN,
      address: '吉州区 井冈山大道与阳明路交叉口',
      description: 'Two cars, one driver trapped',
      source: 'phone',
      agencies: ['traffic', 'ems', 'fire'],
      units: [],
      allUnits: [trafficUnit, emsUnit],
      revision: 11,
    });
    for (const milestone of ['reportedAt', 'triagedAt', 'firstDispatchedAt', 'firstEnRouteAt', 'firstOnSceneAt', 'resolvedAt', 'closedAt']) {
      expect(incident.body[milestone], milestone).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    }
    expect(incident.body.cancelledAt).toBeNull();

    // Both units are free again.
    const units = await server.call('GET', '/api/units', { token: auditor });
    expect(units.status).toBe(200);
    for (const unitId of [trafficUnit, emsUnit]) {
      expect(units.body.find((u: { id: string }) => u.id === unitId)).toMatchObject({ readiness: 'available', status: 'idle', incidentId: null });
    }

    // The history: every fact, in order, with who did it.
    const history = await server.call('GET', `${base}/history`, { token: auditor });
    expect(history.status).toBe(200);
    const users = Object.fromEntries(
      (await server.sql<{ id: string; username: string }[]>`select id, username from users`).map((u) => [u.id, u.username]),
    );
    const seen = history.body.map((e: Record<string, unknown>) => [e.type, users[e.actor as string], e.role, e.agency, e.entityId === id ? 'incident' : e.entityId]);
    const T = trafficUnit;
    const E = emsUnit;
    expect(seen).toEqual([
      ['IncidentReported', 'dispatcher.traffic', 'dispatcher', 'traffic', 'incident'],
      ['IncidentTriaged', 'dispatcher.traffic', 'dispatcher', 'traffic', 'incident'],
      ['UnitDispatched', 'dispatcher.traffic', 'dispatcher', 'traffic', T],
      ['UnitAssignedToIncident', 'dispatcher.traffic', 'dispatcher', 'traffic', 'incident'],
      ['UnitDispatched', 'dispatcher.ems', 'dispatcher', 'ems', E],
      ['UnitAssignedToIncident', 'dispatcher.ems', 'dispatcher', 'ems', 'incident'],
      ['UnitEnRoute', 'supervisor.traffic', 'supervisor', 'traffic', T],
      ['AssignedUnitStatusChanged', 'supervisor.traffic', 'supervisor', 'traffic', 'incident'],
      ['UnitArrivedOnScene', 'supervisor.traffic', 'supervisor', 'traffic', T],
      ['AssignedUnitStatusChanged', 'supervisor.traffic', 'supervisor', 'traffic', 'incident'],
      ['UnitEnRoute', 'supervisor.ems', 'supervisor', 'ems', E],
      ['AssignedUnitStatusChanged', 'supervisor.ems', 'supervisor', 'ems', 'incident'],
      ['UnitArrivedOnScene', 'supervisor.ems', 'supervisor', 'ems', E],
      ['AssignedUnitStatusChanged', 'supervisor.ems', 'supervisor', 'ems', 'incident'],
      ['UnitCleared', 'supervisor.traffic', 'supervisor', 'traffic', T],
      ['AssignedUnitStatusChanged', 'supervisor.traffic', 'supervisor', 'traffic', 'incident'],
      ['UnitCleared', 'supervisor.ems', 'supervisor', 'ems', E],
      ['AssignedUnitStatusChanged', 'supervisor.ems', 'supervisor', 'ems', 'incident'],
      ['IncidentResolved', 'dispatcher.traffic', 'dispatcher', 'traffic', 'incident'],
      ['IncidentClosed', 'dispatcher.traffic', 'dispatcher', 'traffic', 'incident'],
    ]);
    const positions = history.body.map((e: { position: number }) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(history.body.filter((e: { entityId: string }) => e.entityId === id).map((e: { revision: number }) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for (const entry of history.body) {
      expect(entry.commandId).toEqual(expect.any(String));
      expect(entry.correlationId).toBe(id);
      expect(Date.parse(entry.occurredAt)).toBeGreaterThan(0);
      expect(Date.parse(entry.recordedAt)).toBeGreaterThan(0);
    }

    // The KPIs, from the business times the history shows.
    const at = (type: string, predicate: (e: any) => boolean = () => true) =>
      Date.parse(history.body.find((e: any) => e.type === type && predicate(e)).occurredAt);
    const received = at('IncidentReported');
    const toDispatch = (at('UnitAssignedToIncident') - received) / 1000;
    const toScene = (at('AssignedUnitStatusChanged', (e) => e.data.status === 'on_scene') - received) / 1000;
    const toResolved = (at('IncidentResolved') - received) / 1000;
    expect(toDispatch).toBeGreaterThan(0);
    expect(toScene).toBeGreaterThan(toDispatch);
    expect(toResolved).toBeGreaterThan(toScene);

    const dashboard = await server.call('GET', `/api/dashboard?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { token: auditor });
    expect(dashboard.status).toBe(200);
    const { kpis } = dashboard.body;
    for (const [kpi, seconds] of [
      [kpis.receivedToDispatch, toDispatch],
      [kpis.receivedToOnScene, toScene],
      [kpis.receivedToResolved, toResolved],
    ] as const) {
      expect(kpi.n).toBe(1);
      expect(kpi.p50).toBeCloseTo(seconds, 3);
      expect(kpi.p90).toBeCloseTo(seconds, 3);
    }
    expect(dashboard.body.countsByType).toEqual({ traffic_accident_injuries: 1 });
    expect(dashboard.body.open.total).toBe(0);
    expect(Object.values(dashboard.body.open.byAgency).every((n) => n === 0)).toBe(true);
    expect(dashboard.body.units).toEqual({ total: 2, available: 2, busy: 0, outOfService: 0, utilisation: 0 });

    // A window that ends before the report sees nothing.
    const before = await server.call('GET', `/api/dashboard?to=${encodeURIComponent(from)}`, { token: auditor });
    expect(before.body.kpis.receivedToDispatch).toEqual({ p50: null, p90: null, n: 0 });
    expect(before.body.countsByType).toEqual({});
  });
});
