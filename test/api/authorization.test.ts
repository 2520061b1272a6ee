import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { allEvents, command, expectProblem, expectStatus, JIAN, registerUnit, reportIncident } from './fixtures.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/**
 * One command route. `setup` builds a fresh world in which `right` succeeds; `wrongRole` has an allowed agency
 * but a role the route refuses; `wrongAgency` has an allowed role but another agency (null where the route is
 * not scoped by agency at all).
 */
interface Route {
  name: string;
  setup: () => Promise<{ path: string; body: unknown }>;
  right: string;
  status?: number;
  wrongRole: string;
  roleMessage: RegExp;
  wrongAgency: string | null;
}

async function triagedTrafficIncident(): Promise<string> {
  const id = await reportIncident(server, 'dispatcher.traffic');
  await command(server, 'dispatcher.traffic', `/api/incidents/${id}/triage`, {});
  return id;
}

async function incidentWithTrafficUnit(): Promise<{ id: string; unitId: string }> {
  const id = await triagedTrafficIncident();
  const unitId = await registerUnit(server, 'traffic');
  await command(server, 'dispatcher.traffic', `/api/incidents/${id}/assignments`, { unitId });
  return { id, unitId };
}

async function resolvedIncident(): Promise<string> {
  const id = await triagedTrafficIncident();
  await command(server, 'dispatcher.traffic', `/api/incidents/${id}/resolve`, {});
  return id;
}

const ROUTES: Route[] = [
  {
    name: 'report',
    setup: async () => ({ path: '/api/incidents', body: { type: 'traffic_accident', priority: 3, location: JIAN } }),
    right: 'dispatcher.traffic',
    status: 201,
    wrongRole: 'supervisor.traffic',
    roleMessage: /Only dispatchers can report incidents/,
    wrongAgency: 'dispatcher.police',
  },
  {
    name: 'triage',
    setup: async () => ({ path: `/api/incidents/${await reportIncident(server, 'dispatcher.traffic')}/triage`, body: { priority: 2 } }),
    right: 'dispatcher.traffic',
    wrongRole: 'supervisor.traffic',
    roleMessage: /Only dispatchers can triage incidents/,
    wrongAgency: 'dispatcher.fire',
  },
  {
    name: 'assign',
    setup: async () => ({
      path: `/api/incidents/${await triagedTrafficIncident()}/assignments`,
      body: { unitId: await registerUnit(server, 'traffic') },
    }),
    right: 'dispatcher.traffic',
    wrongRole: 'supervisor.traffic',
    roleMessage: /Only dispatchers can assign units/,
    wrongAgency: 'dispatcher.fire',
  },
  {
    name: 'unit status on the incident',
    setup: async () => {
      const { id, unitId } = await incidentWithTrafficUnit();
      return { path: `/api/incidents/${id}/units/${unitId}/status`, body: { status: 'en_route' } };
    },
    right: 'supervisor.traffic',
    wrongRole: 'auditor',
    roleMessage: /Only dispatchers and supervisors can report a unit's status/,
    wrongAgency: 'supervisor.fire',
  },
  {
    name: 'resolve',
    setup: async () => ({ path: `/api/incidents/${await triagedTrafficIncident()}/resolve`, body: { summary: 'Vehicles moved.' } }),
    right: 'supervisor.traffic',
    wrongRole: 'auditor',
    roleMessage: /Only dispatchers and supervisors can resolve incidents/,
    wrongAgency: 'supervisor.fire',
  },
  {
    name: 'close',
    setup: async () => ({ path: `/api/incidents/${await resolvedIncident()}/close`, body: {} }),
    right: 'dispatcher.traffic',
    wrongRole: 'supervisor.traffic',
    roleMessage: /Only dispatchers can close incidents/,
    wrongAgency: 'dispatcher.fire',
  },
  {
    name: 'cancel',
    setup: async () => ({ path: `/api/incidents/${await reportIncident(server, 'dispatcher.traffic')}/cancel`, body: { reason: 'Duplicate call' } }),
    right: 'dispatcher.traffic',
    wrongRole: 'supervisor.traffic',
    roleMessage: /Only dispatchers can cancel incidents/,
    wrongAgency: 'dispatcher.fire',
  },
  {
    name: 'reopen',
    setup: async () => ({ path: `/api/incidents/${await resolvedIncident()}/reopen`, body: { reason: 'Second vehicle found' } }),
    right: 'dispatcher.traffic',
    wrongRole: 'supervisor.traffic',
    roleMessage: /Only dispatchers can reopen incidents/,
    wrongAgency: 'dispatcher.fire',
  },
  {
    name: 'notes',
    setup: async () => ({ path: `/api/incidents/${await reportIncident(server, 'dispatcher.traffic')}/notes`, body: { text: 'Caller says a lane is blocked.' } }),
    right: 'supervisor.traffic',
    wrongRole: 'auditor',
    roleMessage: /Only dispatchers and supervisors can add notes/,
    wrongAgency: 'supervisor.fire',
  },
  {
    name: 'escalate',
    setup: async () => ({ path: `/api/incidents/${await reportIncident(server, 'dispatcher.traffic')}/escalate`, body: { priority: 1, reason: 'Fuel leak' } }),
    right: 'dispatcher.traffic',
    wrongRole: 'supervisor.traffic',
    roleMessage: /Only dispatchers can escalate incidents/,
    wrongAgency: 'dispatcher.fire',
  },
  {
    name: 'register a unit',
    setup: async () => ({ path: '/api/units', body: { callSign: 'JT-99', agency: 'traffic', type: 'motorcycle', homeStation: 'Jizhou station' } }),
    right: 'admin',
    status: 201,
    wrongRole: 'dispatcher.traffic',
    roleMessage: /Only admins can register units/,
    // Admins act on every agency: there is no agency to get wrong.
    wrongAgency: null,
  },
  {
    name: 'unit readiness',
    setup: async () => ({ path: `/api/units/${await registerUnit(server, 'traffic')}/status`, body: { status: 'out_of_service', reason: 'Flat tyre' } }),
    right: 'supervisor.traffic',
    wrongRole: 'auditor',
    roleMessage: /Only dispatchers and supervisors can put units in or out of service/,
    wrongAgency: 'dispatcher.fire',
  },
  {
    name: 'unit location',
    setup: async () => ({ path: `/api/units/${await registerUnit(server, 'traffic')}/location`, body: { lat: 27.12, lng: 114.99, heading: 90, speedKmh: 40 } }),
    right: 'dispatcher.traffic',
    wrongRole: 'auditor',
    roleMessage: /Only dispatchers and supervisors can report unit locations/,
    wrongAgency: 'supervisor.fire',
  },
];

async function eventCount(): Promise<number> {
  return (await allEvents(server)).length;
}

describe(`who may do what (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  for (const route of ROUTES) {
    it(`${route.name}: wrong role 403, wrong agency 403, no token 401, right role and agency ${route.status ?? 200}`, async () => {
      const { path, body } = await route.setup();
      const before = await eventCount();

      const anonymous = await server.call('POST', path, { body });
      expectProblem(anonymous, 401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);

      const wrongRole = await server.call('POST', path, { token: await server.login(route.wrongRole), body });
      expectProblem(wrongRole, 403);
      expect(wrongRole.body.detail).toMatch(route.roleMessage);

      for (const username of ['auditor', route.wrongAgency].filter((u): u is string => u !== null)) {
        const refused = await server.call('POST', path, { token: await server.login(username), body });
        expectProblem(refused, 403);
      }
      if (route.wrongAgency) {
        const refused = await server.call('POST', path, { token: await server.login(route.wrongAgency), body });
        expect(refused.body.detail).toMatch(/your agency \((police|fire|ems)\)/);
      }
      expect(await eventCount(), 'refused commands write nothing').toBe(before);

      const allowed = await server.call('POST', path, { token: await server.login(route.right), body });
      expectStatus(allowed, route.status ?? 200);
      expect(allowed.body).toEqual(expect.objectContaining({ id: expect.any(String), revision: expect.any(Number), commandId: expect.any(String) }));
      expect(await eventCount()).toBeGreaterThan(before);
    });
  }

  it('admins act on every agency', async () => {
    const id = await reportIncident(server, 'admin', { type: 'medical' });
    await command(server, 'admin', `/api/incidents/${id}/triage`, {});
    const unitId = await registerUnit(server, 'ems');
    await command(server, 'admin', `/api/incidents/${id}/assignments`, { unitId });
    await command(server, 'admin', `/api/incidents/${id}/units/${unitId}/status`, { status: 'en_route' });
    await command(server, 'admin', `/api/units/${unitId}/location`, { lat: 27.1, lng: 115 });
  });

  it('a dispatcher cannot send another agency’s unit, even to an incident that needs both', async () => {
    const id = await reportIncident(server, 'dispatcher.ems', { type: 'traffic_accident_injuries' });
    await command(server, 'dispatcher.ems', `/api/incidents/${id}/triage`, {});
    const trafficUnit = await registerUnit(server, 'traffic', 'JT-FOREIGN');
    const refused = await server.call('POST', `/api/incidents/${id}/assignments`, { token: await server.login('dispatcher.ems'), body: { unitId: trafficUnit } });
    expectProblem(refused, 403);
    expect(refused.body.detail).toBe('Unit JT-FOREIGN belongs to traffic, not to your agency (ems).');
  });

  it('a dispatcher may report for another agency only when the incident involves theirs', async () => {
    const token = await server.login('dispatcher.police');
    const body = { type: 'fire', priority: 1, location: JIAN };
    expectProblem(await server.call('POST', '/api/incidents', { token, body }), 403);
    const withPolice = await server.call('POST', '/api/incidents', { token, body: { ...body, agencies: ['police'] } });
    expectStatus(withPolice, 201);
  });

  it('agency staff read only their agency’s incidents; auditors and admins read all', async () => {
    const fireIncident = await reportIncident(server, 'dispatcher.fire', { type: 'gas_leak' });
    await server.settle();
    const refused = await server.call('GET', `/api/incidents/${fireIncident}`, { token: await server.login('supervisor.traffic') });
    expectProblem(refused, 403);
    expect(refused.body.detail).toMatch(/^Incident INC-[0-9a-f]{8} does not involve your agency \(traffic\)\.$/);
    expectProblem(await server.call('GET', `/api/incidents/${fireIncident}/history`, { token: await server.login('dispatcher.traffic') }), 403);

    const trafficList = await server.call('GET', '/api/incidents?pageSize=500', { token: await server.login('dispatcher.traffic') });
    expect(trafficList.body.items.length).toBeGreaterThan(0);
    expect(trafficList.body.items.every((i: { agencies: string[] }) => i.agencies.includes('traffic'))).toBe(true);
    expect(trafficList.body.items.some((i: { id: string }) => i.id === fireIncident)).toBe(false);

    for (const username of ['auditor', 'admin', 'supervisor.safety']) {
      const token = await server.login(username);
      expectStatus(await server.call('GET', `/api/incidents/${fireIncident}`, { token }), 200);
      expectStatus(await server.call('GET', `/api/incidents/${fireIncident}/history`, { token }), 200);
    }
    const all = await server.call('GET', '/api/incidents?pageSize=500', { token: await server.login('auditor') });
    expect(all.body.total).toBeGreaterThan(trafficList.body.total);

    // Units are visible to everyone: a dispatcher needs to see what other agencies have on the road.
    const units = await server.call('GET', '/api/units', { token: await server.login('dispatcher.urban') });
    expect(new Set(units.body.map((u: { agency: string }) => u.agency)).size).toBeGreaterThan(1);
  });

  it('every read needs a token', async () => {
    for (const path of ['/api/incidents', '/api/incidents/x', '/api/incidents/x/history', '/api/units', '/api/dashboard', '/api/auth/me']) {
      expectProblem(await server.call('GET', path), 401);
    }
  });
});
