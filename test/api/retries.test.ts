import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type ApiResponse, type TestServer } from '../support/server.ts';
import { allEvents, command, expectProblem, expectStatus, JIAN, registerUnit, reportIncident } from './fixtures.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function eventCount(): Promise<number> {
  return (await allEvents(server)).length;
}

async function post(username: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return server.call('POST', path, { token: await server.login(username), body, headers });
}

/** What a client can observe of a response; a replay must match it exactly. */
function observable(response: ApiResponse) {
  return {
    status: response.status,
    body: response.body,
    etag: response.headers.get('etag'),
    location: response.headers.get('location'),
    contentType: response.headers.get('content-type'),
  };
}

describe(`If-Match (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('a stale revision is refused with 412 and the current revision, and nothing is written', async () => {
    const id = await reportIncident(server, 'dispatcher.traffic');
    const triaged = await post('dispatcher.traffic', `/api/incidents/${id}/triage`, { priority: 2 }, { 'if-match': '"0"' });
    expectStatus(triaged, 200);
    expect(triaged.headers.get('etag')).toBe('"1"');

    const before = await eventCount();
    const stale = await post('dispatcher.traffic', `/api/incidents/${id}/triage`, { priority: 1 }, { 'if-match': '"0"' });
    expectProblem(stale, 412);
    expect(stale.body).toMatchObject({ expectedRevision: 0, currentRevision: 1 });
    expect(stale.headers.get('etag')).toBe('"1"');
    expect(await eventCount()).toBe(before);

    expectStatus(await post('dispatcher.traffic', `/api/incidents/${id}/notes`, { text: 'Confirmed by CCTV' }, { 'if-match': '"1"' }), 200);
  });

  it('is honoured by the two-stream commands and by unit commands, before anything is written', async () => {
    const id = await reportIncident(server, 'dispatcher.traffic');
    await command(server, 'dispatcher.traffic', `/api/incidents/${id}/triage`, {});
    const unitId = await registerUnit(server, 'traffic');
    const before = await eventCount();

    expectProblem(await post('dispatcher.traffic', `/api/incidents/${id}/assignments`, { unitId }, { 'if-match': '"0"' }), 412);
    expectProblem(await post('dispatcher.traffic', `/api/units/${unitId}/location`, { lat: 27.1, lng: 115 }, { 'if-match': '"5"' }), 412);
    expectProblem(await post('supervisor.traffic', `/api/units/${unitId}/status`, { status: 'out_of_service', reason: 'Tyre' }, { 'if-match': '"3"' }), 412);
    expect(await eventCount()).toBe(before);

    expectStatus(await post('dispatcher.traffic', `/api/incidents/${id}/assignments`, { unitId }, { 'if-match': '"1"' }), 200);
    const afterAssign = await eventCount();
    expectProblem(await post('supervisor.traffic', `/api/incidents/${id}/units/${unitId}/status`, { status: 'en_route' }, { 'if-match': '"1"' }), 412);
    expect(await eventCount()).toBe(afterAssign);
    expectStatus(await post('supervisor.traffic', `/api/incidents/${id}/units/${unitId}/status`, { status: 'en_route' }, { 'if-match': 'W/"2"' }), 200);
  });

  it('a malformed If-Match is a 400', async () => {
    const id = await reportIncident(server, 'dispatcher.traffic');
    const response = await post('dispatcher.traffic', `/api/incidents/${id}/triage`, {}, { 'if-match': 'yesterday' });
    expectProblem(response, 400);
    expect(response.body.detail).toMatch(/If-Match/);
  });
});

describe(`Idempotency-Key (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  const report = { type: 'traffic_congestion', priority: 4, location: JIAN, description: 'Queue at the bridge' };

  it('a repeated key gives the identical answer and writes nothing new', async () => {
    const first = await post('dispatcher.traffic', '/api/incidents', report, { 'idempotency-key': 'report-001' });
    expectStatus(first, 201);
    const after = await eventCount();

    // Key order in the body does not make it another request.
    const again = await post('dispatcher.traffic', '/api/incidents', { description: report.description, location: JIAN, priority: 4, type: 'traffic_congestion' }, { 'idempotency-key': 'report-001' });
    expect(observable(again)).toEqual(observable(first));
    expect(await eventCount()).toBe(after);
  });

  it('the same key with a different request is refused with 422', async () => {
    expectStatus(await post('dispatcher.traffic', '/api/incidents', report, { 'idempotency-key': 'report-002' }), 201);
    const before = await eventCount();
    const other = await post('dispatcher.traffic', '/api/incidents', { ...report, priority: 3 }, { 'idempotency-key': 'report-002' });
    expectProblem(other, 422);
    expect(other.body.detail).toMatch(/already used for a different request/);
    const elsewhere = await post('dispatcher.traffic', `/api/incidents/${await reportIncident(server, 'dispatcher.traffic')}/notes`, { text: 'x' }, { 'idempotency-key': 'report-002' });
    expectProblem(elsewhere, 422);
    expect(await eventCount()).toBe(before + 1); // the incident reported in between
  });

  it('keys belong to their user: the same key from two users is two requests', async () => {
    const a = await post('dispatcher.traffic', '/api/incidents', report, { 'idempotency-key': 'shared-key' });
    const b = await post('admin', '/api/incidents', report, { 'idempotency-key': 'shared-key' });
    expectStatus(a, 201);
    expectStatus(b, 201);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('concurrent retries with one key create one incident and all get the same answer', async () => {
    const before = await eventCount();
    const responses = await Promise.all(Array.from({ length: 6 }, () => post('dispatcher.traffic', '/api/incidents', report, { 'idempotency-key': 'storm-1' })));
    const first = observable(responses[0]!);
    expect(first.status).toBe(201);
    for (const response of responses) expect(observable(response)).toEqual(first);
    expect(await eventCount()).toBe(before + 1);
    const events = (await allEvents(server)).filter((e) => e.metadata.commandId === first.body.commandId);
    expect(events.map((e) => e.streamId)).toEqual([`incident-${first.body.id}`]);
  });

  it('works for every kind of command, two-stream ones included', async () => {
    const id = await reportIncident(server, 'dispatcher.traffic');
    await command(server, 'dispatcher.traffic', `/api/incidents/${id}/triage`, {});
    const unitId = await registerUnit(server, 'traffic');
    const steps: Array<[string, string, unknown]> = [
      ['dispatcher.traffic', `/api/incidents/${id}/assignments`, { unitId }],
      ['supervisor.traffic', `/api/incidents/${id}/units/${unitId}/status`, { status: 'en_route' }],
      ['supervisor.traffic', `/api/units/${unitId}/location`, { lat: 27.2, lng: 115.1 }],
      ['supervisor.traffic', `/api/incidents/${id}/notes`, { text: 'Arriving in 2 minutes' }],
    ];
    for (const [username, path, body] of steps) {
      const key = `step-${path}`;
      const first = await post(username, path, body, { 'idempotency-key': key });
      expectStatus(first, 200);
      const count = await eventCount();
      const again = await post(username, path, body, { 'idempotency-key': key });
      expect(observable(again)).toEqual(observable(first));
      expect(await eventCount(), path).toBe(count);
    }
  });

  it('a refusal is remembered too: the retry hears the same refusal', async () => {
    const id = await reportIncident(server, 'dispatcher.traffic');
    const first = await post('dispatcher.traffic', `/api/incidents/${id}/close`, {}, { 'idempotency-key': 'close-too-early' });
    expectProblem(first, 409);
    expect(first.body).toMatchObject({ state: 'reported', allowed: expect.arrayContaining(['TriageIncident']) });
    const again = await post('dispatcher.traffic', `/api/incidents/${id}/close`, {}, { 'idempotency-key': 'close-too-early' });
    expect(observable(again)).toEqual(observable(first));
  });

  it('the key derives the command id, so the stored events carry it', async () => {
    const response = await post('dispatcher.traffic', '/api/incidents', report, { 'idempotency-key': 'traceable' });
    const [event] = (await server.store.readStream(`incident-${response.body.id}`)).slice(0, 1);
    expect(event?.metadata.commandId).toBe(response.body.commandId);
    expect(response.body.commandId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
  });

  it('an unusable key is a 400', async () => {
    const response = await post('dispatcher.traffic', '/api/incidents', report, { 'idempotency-key': 'x'.repeat(300) });
    expectProblem(response, 400);
    expect(response.body.detail).toMatch(/idempotency-key/i);
  });
});
