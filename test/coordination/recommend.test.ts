// Acceptance 2: units ranked by estimated arrival on a fixture with known distances, each with its reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distanceMeters, rankUnits, straightLineEstimate, type RecommendationUnit, type UnitType } from '../../domain/index.ts';
import { command, expectStatus } from '../api/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { caughtUp } from './support.ts';

const SCENE = { lat: 27.1, lng: 115.0 };
const KM_PER_DEGREE = 111.19508; // mean Earth radius 6371.0088 km
/** A point `km` due north of the scene: its distance is known exactly. */
const north = (km: number) => ({ lat: SCENE.lat + km / KM_PER_DEGREE, lng: SCENE.lng });

function unit(unitId: string, unitType: UnitType, km: number, homeStation: string, extra: Partial<RecommendationUnit> = {}): RecommendationUnit {
  return {
    unitId,
    callSign: unitId,
    agency: unitType === 'ambulance' ? 'ems' : unitType === 'motorcycle' ? 'traffic' : 'fire',
    unitType,
    homeStation,
    position: north(km),
    available: true,
    availableSince: '2026-03-02T02:02:00.000Z', // 10:02 in Ji'an (UTC+8)
    ...extra,
  };
}

describe('rankUnits (pure)', () => {
  const units = [
    unit('A-12', 'ambulance', 1.2, 'Qingyuan EMS'),
    unit('A-10', 'ambulance', 1.0, 'Jizhou EMS'),
    unit('A-30', 'ambulance', 3.0, 'Jizhou EMS', { availableSince: '2026-03-02T01:47:00.000Z' }),
    unit('E-11', 'engine', 1.1, 'Jizhou Fire 1'),
    unit('M-05', 'motorcycle', 0.5, 'Traffic HQ'),
    unit('A-02', 'ambulance', 0.2, 'Jizhou EMS', { available: false }),
    unit('A-99', 'ambulance', 0.3, 'Jizhou EMS', { position: null }),
  ];
  const estimates = new Map(units.filter((u) => u.position).map((u) => [u.unitId, straightLineEstimate(u.position!, SCENE, u.unitType)]));

  it('knows its fixture: the test points are the distances they claim', () => {
    expect(distanceMeters(north(1.0), SCENE)).toBeCloseTo(1000, 0);
    expect(distanceMeters(north(3.0), SCENE)).toBeCloseTo(3000, 0);
  });

  it('ranks available units of the needed types by ETA (distance and type speed), not by distance alone, and explains each', () => {
    const ranked = rankUnits({ incidentLocation: SCENE, units, neededTypes: ['ambulance', 'engine'], estimates });
    // The engine (1.1 km, 40 km/h) is closer than A-12 (1.2 km, 50 km/h) but arrives later.
    expect(ranked.map((r) => r.unitId)).toEqual(['A-10', 'A-12', 'E-11', 'A-30']);
    expect(ranked.map((r) => [r.distanceKm, r.etaMinutes])).toEqual([
      [1.3, 1.6], // 1.0 km × 1.3 detour at 50 km/h = 1.56 min
      [1.6, 1.9], // 1.56 km at 50 km/h = 1.872 min
      [1.4, 2.1], // 1.43 km at 40 km/h = 2.145 min
      [3.9, 4.7], // 3.9 km at 50 km/h = 4.68 min
    ]);
    expect(ranked[0]!.reason).toBe('1.3 km, ~2 min, ambulance, available since 10:02; 1 more at Jizhou EMS');
    // A-12 is the only ambulance of its station: sending it leaves its area to the nearest other one.
    expect(ranked[1]!.reason).toBe('1.6 km, ~2 min, ambulance, available since 10:02; last available ambulance at Qingyuan EMS: its area would be covered from A-10, 0.2 km away');
    expect(ranked[1]!.coverage).toEqual({ lastAtStation: true, remainingAtStation: 0, nextNearest: { unitId: 'A-10', callSign: 'A-10', distanceKm: 0.2 } });
    expect(ranked[2]!.reason).toBe('1.4 km, ~3 min, fire engine, available since 10:02; last available fire engine at Jizhou Fire 1, and no other is available: its area would be left without cover');
    expect(ranked[3]!.reason).toBe('3.9 km, ~5 min, ambulance, available since 09:47; 1 more at Jizhou EMS');
  });

  it('leaves out busy units, units without a position and types not needed', () => {
    const ranked = rankUnits({ incidentLocation: SCENE, units, neededTypes: ['ambulance'], estimates });
    expect(ranked.map((r) => r.unitId)).toEqual(['A-10', 'A-12', 'A-30']);
    expect(rankUnits({ incidentLocation: SCENE, units, neededTypes: ['ladder'], estimates })).toEqual([]);
  });

  it('takes another estimator’s answer as it is (a routing service can reorder units)', () => {
    const routed = new Map(estimates);
    routed.set('A-30', { distanceKm: 2.0, etaMinutes: 1.0 }); // a fast ring road
    const ranked = rankUnits({ incidentLocation: SCENE, units, neededTypes: ['ambulance'], estimates: routed });
    expect(ranked.map((r) => r.unitId)).toEqual(['A-30', 'A-10', 'A-12']);
    expect(ranked[0]!.reason).toMatch(/^2\.0 km, ~1 min, ambulance/);
  });
});

describe(`GET /api/incidents/:id/recommendations (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('ranks the agency’s available units of the types the plan still misses, best first, with reasons', async () => {
    const admin = await server.login('admin');
    const register = async (callSign: string, agency: string, type: string, km: number, homeStation: string) => {
      const r = await server.call('POST', '/api/units', { token: admin, body: { callSign, agency, type, homeStation, position: north(km) } });
      expectStatus(r, 201);
      return r.body.id as string;
    };
    const far = await register('EMS-30', 'ems', 'ambulance', 3.0, 'Jizhou EMS');
    const near = await register('EMS-10', 'ems', 'ambulance', 1.0, 'Jizhou EMS');
    const mid = await register('EMS-20', 'ems', 'ambulance', 2.0, 'Qingyuan EMS');
    await register('R-15', 'fire', 'rescue', 1.5, 'Jizhou Fire 1');
    await register('E-05', 'fire', 'engine', 0.5, 'Jizhou Fire 1');

    const id = (await command(server, 'dispatcher.traffic', '/api/incidents', { type: 'traffic_accident_injuries', priority: 2, location: SCENE }, 201)).body.id as string;
    await caughtUp(server, id);
    const token = await server.login('dispatcher.ems');
    const ems = await server.call('GET', `/api/incidents/${id}/recommendations?agency=ems`, { token });
    expectStatus(ems, 200);
    expect(ems.body.map((r: any) => [r.unitId, r.agency, r.type, r.distanceKm, r.etaMinutes])).toEqual([
      [near, 'ems', 'ambulance', 1.3, 1.6],
      [mid, 'ems', 'ambulance', 2.6, 3.1],
      [far, 'ems', 'ambulance', 3.9, 4.7],
    ]);
    const { statusSince } = (await server.call('GET', `/api/units/${near}`, { token })).body;
    const since = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'Asia/Shanghai' }).format(Date.parse(statusSince));
    expect(ems.body[0].reason).toBe(`1.3 km, ~2 min, ambulance, available since ${since}; 1 more at Jizhou EMS`);
    expect(ems.body[1].reason).toMatch(/last available ambulance at Qingyuan EMS: its area would be covered from EMS-10/);

    // Fire's plan asks for a rescue truck: the nearer engine is not what is missing.
    const fire = await server.call('GET', `/api/incidents/${id}/recommendations?agency=fire`, { token: await server.login('dispatcher.fire') });
    expect(fire.body.map((r: any) => r.type)).toEqual(['rescue']);

    // Once one ambulance is assigned it is no longer available and drops out.
    await command(server, 'dispatcher.traffic', `/api/incidents/${id}/triage`, {});
    await command(server, 'dispatcher.ems', `/api/incidents/${id}/assignments`, { unitId: near });
    await caughtUp(server, id);
    const after = await server.call('GET', `/api/incidents/${id}/recommendations?agency=ems`, { token });
    expect(after.body.map((r: any) => r.unitId)).toEqual([mid, far]);

    // An agency not on the incident cannot look at it.
    const outsider = await server.call('GET', `/api/incidents/${id}/recommendations`, { token: await server.login('dispatcher.urban') });
    expectStatus(outsider, 403);
  });
});
