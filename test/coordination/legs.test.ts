// Acceptance 1: a traffic accident with injuries runs through three agencies' legs to resolution; each agency acts
// only on its own leg, and the history shows every hand-over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, expectProblem, expectStatus, JIAN } from '../api/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { caughtUp } from './support.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function unit(agency: string, type: string, callSign: string): Promise<string> {
  const response = await server.call('POST', '/api/units', {
    token: await server.login('admin'),
    body: { callSign, agency, type, homeStation: `${agency} station 1`, position: JIAN },
  });
  expectStatus(response, 201);
  return response.body.id;
}

const incident = (id: string, username = 'auditor') => caughtUp(server, id, username);

async function userId(username: string): Promise<string> {
  const [row] = await server.sql<{ id: string }[]>`select id from users where username = ${username}`;
  return row!.id;
}

const post = async (username: string, path: string, body: unknown = {}) => server.call('POST', path, { token: await server.login(username), body });

describe(`legs per agency (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('a traffic accident with injuries runs through traffic, EMS and fire legs to resolution, each agency on its own leg', async () => {
    const patrol = await unit('traffic', 'traffic_patrol', 'JT-11');
    const amb1 = await unit('ems', 'ambulance', 'EMS-21');
    const amb2 = await unit('ems', 'ambulance', 'EMS-22');
    const rescue = await unit('fire', 'rescue', 'R-31');

    const reported = await command(server, 'dispatcher.traffic', '/api/incidents', { type: 'traffic_accident_injuries', priority: 2, location: JIAN, description: 'Two cars, driver trapped' }, 201);
    const id = reported.body.id as string;
    const base = `/api/incidents/${id}`;
    await command(server, 'dispatcher.traffic', `${base}/triage`, { priority: 2 });

    // Triage applied the run card: three legs, traffic leading, everything still missing.
    let view = await incident(id);
    expect(view.lead).toBe('traffic');
    expect(view.planId).toBe('traffic_accident_injuries/P2');
    expect(view.legs.map((l: any) => [l.agency, l.status, l.lead, l.units])).toEqual([
      ['traffic', 'pending', true, []],
      ['ems', 'pending', false, []],
      ['fire', 'pending', false, []],
    ]);
    expect(view.missing).toEqual([
      { agency: 'traffic', unitType: 'traffic_patrol', count: 1 },
      { agency: 'ems', unitType: 'ambulance', count: 2 },
      { agency: 'fire', unitType: 'rescue', count: 1 },
    ]);

    // Each agency takes its own leg; nobody can take or act on another's.
    for (const agency of ['traffic', 'ems', 'fire']) await command(server, `dispatcher.${agency}`, `${base}/legs/${agency}/claim`);
    expectProblem(await post('dispatcher.traffic', `${base}/legs/ems/claim`), 403);
    expectProblem(await post('dispatcher.traffic', `${base}/legs/fire/complete`), 403);
    expectProblem(await post('dispatcher.traffic', `${base}/assignments`, { unitId: amb1 }), 403);
    expectProblem(await post('dispatcher.ems', `${base}/lead`, { to: 'ems' }), 403);

    await command(server, 'dispatcher.traffic', `${base}/assignments`, { unitId: patrol });
    await command(server, 'dispatcher.ems', `${base}/assignments`, { unitId: amb1 });
    view = await incident(id);
    expect(view.legs.find((l: any) => l.agency === 'ems').missing).toEqual([{ unitType: 'ambulance', count: 1 }]);
    await command(server, 'dispatcher.ems', `${base}/assignments`, { unitId: amb2 });
    await command(server, 'dispatcher.fire', `${base}/assignments`, { unitId: rescue });
    expectProblem(await post('supervisor.traffic', `${base}/units/${amb1}/status`, { status: 'en_route' }), 403);
    for (const [agency, unitId] of [['traffic', patrol], ['ems', amb1], ['ems', amb2], ['fire', rescue]] as const) {
      await command(server, `supervisor.${agency}`, `${base}/units/${unitId}/status`, { status: 'on_scene' });
    }
    view = await incident(id);
    expect(view.missing).toEqual([]);
    expect(view.legs.map((l: any) => [l.agency, l.status])).toEqual([
      ['traffic', 'on_scene'],
      ['ems', 'on_scene'],
      ['fire', 'on_scene'],
    ]);

    // Fire leads the extraction, then hands the lead back.
    await command(server, 'dispatcher.traffic', `${base}/lead`, { to: 'fire', reason: 'Driver trapped: fire leads the extraction' });
    expect((await incident(id)).lead).toBe('fire');
    await command(server, 'supervisor.fire', `${base}/units/${rescue}/status`, { status: 'cleared' });
    const leadFirst = await post('supervisor.fire', `${base}/legs/fire/complete`, { summary: 'Driver freed' });
    expectProblem(leadFirst, 409);
    expect(leadFirst.body.detail).toMatch(/fire leads .* hand the lead/);
    await command(server, 'dispatcher.fire', `${base}/lead`, { to: 'traffic', reason: 'Extraction done' });
    await command(server, 'supervisor.fire', `${base}/legs/fire/complete`, { summary: 'Driver freed' });

    // EMS cannot finish while an ambulance is still working.
    await command(server, 'supervisor.ems', `${base}/units/${amb1}/status`, { status: 'transporting', destination: "Ji'an Central Hospital" });
    await command(server, 'supervisor.ems', `${base}/units/${amb2}/status`, { status: 'cleared' });
    const early = await post('supervisor.ems', `${base}/legs/ems/complete`);
    expectProblem(early, 409);
    expect(early.body.detail).toMatch(/clear EMS-21 first/);
    await command(server, 'supervisor.ems', `${base}/units/${amb1}/status`, { status: 'cleared' });
    await command(server, 'supervisor.ems', `${base}/legs/ems/complete`, { summary: 'One patient to hospital' });
    expect((await incident(id)).status).toBe('on_scene');

    // The last leg done resolves the incident.
    await command(server, 'supervisor.traffic', `${base}/units/${patrol}/status`, { status: 'cleared' });
    await command(server, 'dispatcher.traffic', `${base}/legs/traffic/complete`, { summary: 'Road reopened' });
    view = await incident(id, 'dispatcher.fire');
    expect(view.status).toBe('resolved');
    expect(view.legs.map((l: any) => [l.agency, l.status, l.lead, l.owner])).toEqual([
      ['traffic', 'done', true, await userId('dispatcher.traffic')],
      ['ems', 'done', false, await userId('dispatcher.ems')],
      ['fire', 'done', false, await userId('dispatcher.fire')],
    ]);
    expect(view.legs.find((l: any) => l.agency === 'ems').units.map((u: any) => [u.callSign, u.unitType, u.status])).toEqual([
      ['EMS-21', 'ambulance', 'cleared'],
      ['EMS-22', 'ambulance', 'cleared'],
    ]);
    expectProblem(await post('dispatcher.traffic', `${base}/legs/traffic/complete`), 409);

    // Every hand-over is in the history, with who did it for which agency.
    const history = await server.call('GET', `${base}/history`, { token: await server.login('auditor') });
    expectStatus(history, 200);
    const users = Object.fromEntries((await server.sql<{ id: string; username: string }[]>`select id, username from users`).map((u) => [u.id, u.username]));
    const handovers = history.body
      .filter((e: any) => ['IncidentLegClaimed', 'IncidentLeadHandedOver', 'IncidentLegCompleted', 'IncidentResolved'].includes(e.type))
      .map((e: any) => [e.type, users[e.actor], e.agency, e.data.agency ?? e.data.to ?? null]);
    expect(handovers).toEqual([
      ['IncidentLegClaimed', 'dispatcher.traffic', 'traffic', 'traffic'],
      ['IncidentLegClaimed', 'dispatcher.ems', 'ems', 'ems'],
      ['IncidentLegClaimed', 'dispatcher.fire', 'fire', 'fire'],
      ['IncidentLeadHandedOver', 'dispatcher.traffic', 'traffic', 'fire'],
      ['IncidentLeadHandedOver', 'dispatcher.fire', 'fire', 'traffic'],
      ['IncidentLegCompleted', 'supervisor.fire', 'fire', 'fire'],
      ['IncidentLegCompleted', 'supervisor.ems', 'ems', 'ems'],
      ['IncidentLegCompleted', 'dispatcher.traffic', 'traffic', 'traffic'],
      ['IncidentResolved', 'dispatcher.traffic', 'traffic', null],
    ]);
    const leads = history.body.filter((e: any) => e.type === 'IncidentLeadHandedOver').map((e: any) => [e.data.from, e.data.to, e.reason ?? null]);
    expect(leads).toEqual([
      ['traffic', 'fire', 'Driver trapped: fire leads the extraction'],
      ['fire', 'traffic', 'Extraction done'],
    ]);
  });

  it('mutual aid is asked for by one agency and accepted or declined by the other, as events; a declined leg does not hold up resolution', async () => {
    const engine = await unit('fire', 'engine', 'E-41');
    const id = (await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 2, location: { lat: 27.09, lng: 114.95 } }, 201)).body.id as string;
    const base = `/api/incidents/${id}`;
    await command(server, 'dispatcher.fire', `${base}/triage`, {});
    await command(server, 'dispatcher.fire', `${base}/mutual-aid`, { agency: 'police', note: 'Crowd control' });
    await command(server, 'dispatcher.fire', `${base}/mutual-aid`, { agency: 'urban', note: 'Clear the stalls blocking the lane' });
    let view = await incident(id, 'dispatcher.police');
    expect(view.agencies).toEqual(['fire', 'ems', 'police', 'urban']);
    expect(view.legs.find((l: any) => l.agency === 'police')).toMatchObject({ status: 'requested', requestedBy: 'fire', note: 'Crowd control' });

    // Only the asked agency answers.
    expectProblem(await post('dispatcher.fire', `${base}/mutual-aid/police/accept`), 403);
    await command(server, 'dispatcher.police', `${base}/mutual-aid/police/decline`, { reason: 'No patrol free in Jizhou' });
    await command(server, 'dispatcher.urban', `${base}/mutual-aid/urban/accept`);
    expectProblem(await post('dispatcher.urban', `${base}/mutual-aid/urban/accept`), 409);
    view = await incident(id);
    expect(view.legs.map((l: any) => [l.agency, l.status])).toEqual([
      ['fire', 'pending'],
      ['ems', 'pending'],
      ['police', 'declined'],
      ['urban', 'pending'],
    ]);
    expect(view.legs.find((l: any) => l.agency === 'urban').owner).toBe(await userId('dispatcher.urban'));

    await command(server, 'dispatcher.fire', `${base}/assignments`, { unitId: engine });
    await command(server, 'supervisor.fire', `${base}/units/${engine}/status`, { status: 'cleared' });
    await command(server, 'dispatcher.ems', `${base}/legs/ems/complete`, { summary: 'Not needed' });
    await command(server, 'dispatcher.urban', `${base}/legs/urban/complete`, { summary: 'Lane cleared' });
    await command(server, 'dispatcher.fire', `${base}/legs/fire/complete`, { summary: 'Out' });
    expect((await incident(id)).status).toBe('resolved');
    const history = await server.call('GET', `${base}/history`, { token: await server.login('auditor') });
    expect(history.body.map((e: any) => e.type).filter((t: string) => t.startsWith('MutualAid'))).toEqual([
      'MutualAidRequested',
      'MutualAidRequested',
      'MutualAidDeclined',
      'MutualAidAccepted',
    ]);
  });
});
