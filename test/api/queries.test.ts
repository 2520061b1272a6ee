import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { command, expectProblem, registerUnit, reportIncident } from './fixtures.ts';

let server: TestServer;
let auditor: string;
const ids: Record<string, string> = {};

// Ji'an: the old town around (114.98, 27.11); Qingyuan district to the south-east around (115.02, 27.08).
beforeAll(async () => {
  server = await startTestServer();
  auditor = await server.login('auditor');
  ids.fire = await reportIncident(server, 'dispatcher.fire', { type: 'fire', priority: 1, location: { lat: 27.11, lng: 114.98 } });
  ids.jam = await reportIncident(server, 'dispatcher.traffic', { type: 'traffic_congestion', priority: 4, location: { lat: 27.08, lng: 115.02 } });
  ids.crash = await reportIncident(server, 'dispatcher.traffic', { type: 'traffic_accident', priority: 3, location: { lat: 27.12, lng: 114.99 } });
  ids.medical = await reportIncident(server, 'dispatcher.ems', { type: 'medical', priority: 2, location: { lat: 27.09, lng: 115.01 } });
  ids.urban = await reportIncident(server, 'dispatcher.urban', { type: 'urban_management', priority: 5, location: { lat: 27.1, lng: 115.0 } });
  await command(server, 'dispatcher.traffic', `/api/incidents/${ids.crash}/triage`, {});
  await command(server, 'dispatcher.urban', `/api/incidents/${ids.urban}/cancel`, { reason: 'Duplicate of an open case' });
  ids.ambulance = await registerUnit(server, 'ems', 'A-1');
  ids.engine = await registerUnit(server, 'fire', 'E-1');
  await command(server, 'supervisor.fire', `/api/units/${ids.engine}/status`, { status: 'out_of_service', reason: 'Pump maintenance' });
  await server.settle();
});
afterAll(async () => {
  await server?.close();
});

async function list(query: string, token = auditor) {
  const response = await server.call('GET', `/api/incidents${query}`, { token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as { items: Array<{ id: string; priority: number }>; total: number; page: number; pageSize: number };
}

describe(`incident and unit queries (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('lists most urgent first, then oldest first', async () => {
    const page = await list('');
    expect(page.items.map((i) => i.id)).toEqual([ids.fire, ids.medical, ids.crash, ids.jam, ids.urban]);
    expect(page).toMatchObject({ total: 5, page: 1, pageSize: 50 });
  });

  it('filters by status, agency, priority, type, area and time', async () => {
    expect((await list('?status=reported,triaged')).items.map((i) => i.id)).toEqual([ids.fire, ids.medical, ids.crash, ids.jam]);
    expect((await list('?status=cancelled')).items.map((i) => i.id)).toEqual([ids.urban]);
    expect((await list('?agency=ems')).items.map((i) => i.id)).toEqual([ids.fire, ids.medical]);
    expect((await list('?priority=1,2')).items.map((i) => i.id)).toEqual([ids.fire, ids.medical]);
    expect((await list('?type=traffic_congestion')).items.map((i) => i.id)).toEqual([ids.jam]);
    expect((await list('?bbox=114.97,27.105,114.995,27.125')).items.map((i) => i.id)).toEqual([ids.fire, ids.crash]);
    expect((await list(`?updatedSince=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).total).toBe(0);
    expect((await list(`?updatedSince=${encodeURIComponent(new Date(Date.now() - 600_000).toISOString())}`)).total).toBe(5);
  });

  it('pages with page/pageSize or limit/offset', async () => {
    const second = await list('?page=2&pageSize=2');
    expect(second).toMatchObject({ total: 5, page: 2, pageSize: 2 });
    expect(second.items.map((i) => i.id)).toEqual([ids.crash, ids.jam]);
    const offset = await list('?limit=2&offset=4');
    expect(offset.items.map((i) => i.id)).toEqual([ids.urban]);
    expect(offset).toMatchObject({ page: 3, pageSize: 2 });
    expectProblem(await server.call('GET', '/api/incidents?page=2&offset=3', { token: auditor }), 400);
  });

  it('shows agency staff their agency’s incidents only', async () => {
    const traffic = await list('', await server.login('supervisor.traffic'));
    expect(traffic.items.map((i) => i.id)).toEqual([ids.crash, ids.jam]);
    expect(traffic.total).toBe(2);
    // Asking for another agency does not widen the scope.
    expect((await list('?agency=fire', await server.login('dispatcher.traffic'))).total).toBe(0);
  });

  it('answers a known revision with 304', async () => {
    const first = await server.call('GET', `/api/incidents/${ids.crash}`, { token: auditor });
    expect(first.headers.get('etag')).toBe('"1"');
    const again = await server.call('GET', `/api/incidents/${ids.crash}`, { token: auditor, headers: { 'if-none-match': '"1"' } });
    expect(again.status).toBe(304);
  });

  it('lists units with readiness, status and position, filterable', async () => {
    const all = await server.call('GET', '/api/units', { token: await server.login('dispatcher.police') });
    expect(all.status).toBe(200);
    expect(all.body.map((u: { callSign: string }) => u.callSign)).toEqual(['A-1', 'E-1']);
    expect(all.body[1]).toMatchObject({ agency: 'fire', type: 'engine', readiness: 'out_of_service', status: 'idle', incidentId: null, position: { lat: expect.any(Number), lng: expect.any(Number) } });
    const available = await server.call('GET', '/api/units?readiness=available', { token: auditor });
    expect(available.body.map((u: { id: string }) => u.id)).toEqual([ids.ambulance]);
    const one = await server.call('GET', `/api/units/${ids.engine}`, { token: auditor });
    expect(one.body).toMatchObject({ id: ids.engine, callSign: 'E-1', homeStation: 'fire station 1' });
    expect(one.headers.get('etag')).toBe('"1"');
  });

  it('the dashboard counts open incidents by agency and priority, and units by state', async () => {
    const response = await server.call('GET', '/api/dashboard', { token: await server.login('dispatcher.safety') });
    expect(response.status).toBe(200);
    expect(response.body.open).toEqual({
      total: 4,
      byAgency: { police: 0, traffic: 2, fire: 1, ems: 2, safety: 0, urban: 0 },
      byPriority: { '1': 1, '2': 1, '3': 1, '4': 1, '5': 0 },
    });
    expect(response.body.countsByType).toEqual({ fire: 1, medical: 1, traffic_accident: 1, traffic_congestion: 1, urban_management: 1 });
    expect(response.body.units).toEqual({ total: 2, available: 1, busy: 0, outOfService: 1, utilisation: 0 });
    expectProblem(await server.call('GET', '/api/dashboard?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', { token: auditor }), 400);
  });
});
