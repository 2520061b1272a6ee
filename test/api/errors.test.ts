import { createHmac } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemFor } from '../../api/http/errors.ts';
import { describeValidationError } from '../../api/http/validationMessages.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { command, expectProblem, JIAN, reportIncident, sleep } from './fixtures.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

function hs256(claims: Record<string, unknown>, secret: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const valid = { type: 'traffic_accident', priority: 3, location: JIAN };

async function report(body: unknown, headers: Record<string, string> = {}) {
  return server.call('POST', '/api/incidents', { token: await server.login('dispatcher.traffic'), body, headers });
}

describe(`problem documents (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('validation errors name the field in a sentence', async () => {
    const cases: Array<[unknown, string]> = [
      [{ ...valid, priority: 6 }, "The field 'priority' must be <= 5."],
      [{ ...valid, priority: 0 }, "The field 'priority' must be >= 1."],
      [{ ...valid, priority: '3' }, "The field 'priority' must be a whole number."],
      [{ ...valid, foo: 1 }, "The field 'foo' is not allowed."],
      [{ ...valid, location: { lat: 27, lng: 115, alt: 3 } }, "The field 'location.alt' is not allowed."],
      [{ ...valid, location: { lat: 91, lng: 115 } }, "The field 'location.lat' must be <= 90."],
      [{ priority: 3, location: JIAN }, "The field 'type' is required."],
      [{ ...valid, type: 'alien_landing' }, "The field 'type' must be one of: 'fire', 'traffic_accident',"],
      [{ ...valid, agencies: ['fire', 'fire'] }, "The field 'agencies' must not repeat an item"],
      [{ ...valid, agencies: ['army'] }, "The field 'agencies[0]' must be one of:"],
      [{ ...valid, address: 'x'.repeat(501) }, "The field 'address' must be at most 500 characters long."],
      [[valid], 'The request body must be a JSON object.'],
      ['"just text"', 'The request body must be a JSON object.'],
    ];
    for (const [body, detail] of cases) {
      const response = await report(body);
      expectProblem(response, 400);
      expect(response.body.detail).toContain(detail);
      expect(response.body.type).toBe('urn:citybrain:problem:validation');
    }
    const bad = await report({ ...valid, priority: 9 });
    expect(bad.body).toMatchObject({ field: 'priority', in: 'body' });
  });

  it('query strings and path parameters are checked too', async () => {
    const token = await server.login('auditor');
    const page = await server.call('GET', '/api/incidents?pageSize=0', { token });
    expectProblem(page, 400);
    expect(page.body.detail).toBe("The query parameter 'pageSize' must be >= 1.");
    const extra = await server.call('GET', '/api/incidents?colour=red', { token });
    expectProblem(extra, 400);
    expect(extra.body.detail).toBe("The query parameter 'colour' is not allowed.");
    expectProblem(await server.call('GET', '/api/incidents?bbox=1,2,3', { token }), 400);
    expectProblem(await server.call('GET', '/api/dashboard?from=yesterday', { token }), 400);
    const path = await server.call('GET', `/api/incidents/${encodeURIComponent('bad id!')}`, { token });
    expectProblem(path, 400);
    expect(path.body.detail).toMatch(/^The path parameter 'id'/);
  });

  it('malformed bodies, wrong media types and oversized bodies are 4xx problems', async () => {
    const token = await server.login('dispatcher.traffic');
    const broken = await server.call('POST', '/api/incidents', { token, body: '{"type": ', headers: { 'content-type': 'application/json' } });
    expectProblem(broken, 400);
    expect(broken.body.detail).toBe('The request body is not valid JSON.');
    const xml = await server.call('POST', '/api/incidents', { token, body: '<incident/>', headers: { 'content-type': 'application/xml' } });
    expectProblem(xml, 415);
    const huge = await server.call('POST', '/api/incidents', { token, body: { ...valid, description: 'x'.repeat(70 * 1024) } });
    expectProblem(huge, 413);
    const poisoned = await server.call('POST', '/api/incidents', { token, body: '{"__proto__": {"admin": true}, "type": "fire"}', headers: { 'content-type': 'application/json' } });
    expectProblem(poisoned, 400);
  });

  it('a command the state does not allow is 409 with the state and what is allowed', async () => {
    const id = await reportIncident(server, 'dispatcher.traffic');
    const response = await command(server, 'dispatcher.traffic', `/api/incidents/${id}/close`, {}, 409);
    expectProblem(response, 409);
    expect(response.body).toMatchObject({
      type: 'urn:citybrain:problem:invalid-state',
      state: 'reported',
      allowed: ['TriageIncident', 'EscalateIncident', 'AddNote', 'CancelIncident'],
    });
    expect(response.body.detail).toMatch(/is reported \(awaiting triage\); allowed now: triage, escalate, add a note or cancel, not close\./);
  });

  it('a payload the domain refuses is 400 with its sentence', async () => {
    const id = await reportIncident(server, 'dispatcher.traffic', { priority: 2 });
    const response = await command(server, 'dispatcher.traffic', `/api/incidents/${id}/escalate`, { priority: 4 }, 400);
    expectProblem(response, 400);
    expect(response.body.detail).toMatch(/cannot lower the priority/);
    expect(response.body.field).toBe('priority');
  });

  it('unknown routes and ids are 404 problems', async () => {
    const token = await server.login('admin');
    const route = await server.call('GET', '/api/nothing-here', { token });
    expectProblem(route, 404);
    expect(route.body.detail).toBe('There is no GET /api/nothing-here here.');
    const missing = '01a213f4-0000-7000-8000-000000000000';
    expectProblem(await server.call('GET', `/api/incidents/${missing}`, { token }), 404);
    expectProblem(await server.call('GET', `/api/incidents/${missing}/history`, { token }), 404);
    expectProblem(await server.call('GET', `/api/units/${missing}`, { token }), 404);
    const command404 = await server.call('POST', `/api/incidents/${missing}/triage`, { token, body: {} });
    expectProblem(command404, 404);
    expect(command404.body.detail).toBe(`There is no incident INC-00000000 (${missing}).`);
    expectProblem(await server.call('POST', `/api/units/${missing}/location`, { token, body: { lat: 1, lng: 2 } }), 404);
    const id = await reportIncident(server, 'admin');
    await command(server, 'admin', `/api/incidents/${id}/triage`, {});
    expectProblem(await server.call('POST', `/api/incidents/${id}/assignments`, { token, body: { unitId: missing } }), 404);
  });

  it('401 for a missing, malformed, forged or expired token', async () => {
    expectProblem(await server.call('GET', '/api/units'), 401);
    expectProblem(await server.call('GET', '/api/units', { headers: { authorization: 'Basic YWRtaW46ZGVtbw==' } }), 401);
    expectProblem(await server.call('GET', '/api/units', { token: 'not.a.jwt' }), 401);
    const forged = hs256({ sub: 'x', username: 'admin', role: 'admin', agency: 'police', exp: Math.floor(Date.now() / 1000) + 3600 }, 'a-secret-that-is-not-the-servers-0123456789');
    expectProblem(await server.call('GET', '/api/units', { token: forged }), 401);

    const expiring = server.app.jwt.sign({ sub: 'x', username: 'admin', role: 'admin', agency: 'police' }, { expiresIn: 1 }); // seconds
    await sleep(2100);
    const expired = await server.call('GET', '/api/units', { token: expiring });
    expectProblem(expired, 401);
    expect(expired.body.detail).toBe('Your session has expired; log in again.');
    expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('a live-feed ticket is not a bearer token', async () => {
    const ticket = server.app.jwt.sign({ sub: 'x', username: 'admin', role: 'admin', agency: 'police', purpose: 'live' });
    expectProblem(await server.call('GET', '/api/units', { token: ticket }), 401);
  });

  it('login: one answer for unknown users and wrong passwords; the token works', async () => {
    const unknown = await server.call('POST', '/api/auth/login', { body: { username: 'nobody', password: 'demo' } });
    const wrong = await server.call('POST', '/api/auth/login', { body: { username: 'admin', password: 'wrong' } });
    expectProblem(unknown, 401);
    expectProblem(wrong, 401);
    expect(unknown.body).toEqual(wrong.body);

    const ok = await server.call('POST', '/api/auth/login', { body: { username: 'dispatcher.ems', password: 'demo' } });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ username: 'dispatcher.ems', role: 'dispatcher', agency: 'ems' });
    expect(ok.body.user).not.toHaveProperty('passwordHash');
    const hours = (Date.parse(ok.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const me = await server.call('GET', '/api/auth/me', { token: ok.body.token });
    expect(me.body).toMatchObject({ username: 'dispatcher.ems', role: 'dispatcher', agency: 'ems' });
  });

  it('request ids: an incoming X-Request-Id is kept, otherwise one is made; it reaches the events', async () => {
    const given = await server.call('GET', '/api/config', { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc-123');
    const made = await server.call('GET', '/api/config', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const response = await report(valid, { 'x-request-id': 'req-from-the-call-taker' });
    const [event] = await server.store.readStream(`incident-${response.body.id}`);
    expect(event?.metadata).toMatchObject({ requestId: 'req-from-the-call-taker', clientAddress: '127.0.0.1' });
  });

  it('the business time is the server’s, never the client’s', async () => {
    const response = await report({ ...valid, occurredAt: '2001-01-01T00:00:00Z' });
    expectProblem(response, 400);
    const startedAt = Date.now();
    const ok = await report(valid);
    const answeredAt = Date.now();
    const [event] = await server.store.readStream(`incident-${ok.body.id}`);
    // An ISO time to the millisecond, read from the server's clock while the request ran.
    const occurredAt = Date.parse(String(event?.metadata.occurredAt));
    expect(occurredAt).toBeGreaterThanOrEqual(startedAt);
    expect(occurredAt).toBeLessThanOrEqual(answeredAt);
  });

  it('public routes: config, health, docs', async () => {
    const config = await server.call('GET', '/api/config');
    expect(config.status).toBe(200);
    expect(config.body.agencies.map((a: { id: string }) => a.id)).toEqual(['police', 'traffic', 'fire', 'ems', 'safety', 'urban']);
    expect(config.body.incidentTypes.find((t: { id: string }) => t.id === 'traffic_accident_injuries')).toMatchObject({
      agencies: ['traffic', 'ems', 'fire'],
      defaultPriority: 2,
      nameZh: '交通事故（有人员受伤）',
    });
    expect(config.body.roles.map((r: { id: string }) => r.id)).toEqual(['dispatcher', 'supervisor', 'auditor', 'admin']);
    const health = await server.call('GET', '/api/health');
    expect(health.body).toMatchObject({ status: 'ok', database: 'ok' });
    const docs = await server.call('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    const openapi = await server.call('GET', '/docs/json');
    expect(openapi.body.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/api/incidents', '/api/incidents/{id}/assignments', '/api/dashboard']));
    // Every body schema in the document is closed.
    for (const [path, operations] of Object.entries<Record<string, any>>(openapi.body.paths)) {
      for (const operation of Object.values(operations)) {
        const schema = operation.requestBody?.content?.['application/json']?.schema;
        if (schema) expect(schema.additionalProperties, path).toBe(false);
      }
    }
    expect(config.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('rate limits', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ config: { rateLimitMax: 5, loginRateLimitMax: 2 }, projector: false });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('429 is a problem with Retry-After; login is limited more tightly', async () => {
    const attempts = [];
    for (let i = 0; i < 3; i++) attempts.push(await limited.call('POST', '/api/auth/login', { body: { username: 'admin', password: 'nope' } }));
    expect(attempts.map((r) => r.status)).toEqual([401, 401, 429]);
    expectProblem(attempts[2]!, 429);
    expect(Number(attempts[2]!.headers.get('retry-after'))).toBeGreaterThan(0);

    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await limited.call('GET', '/api/config')).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
  });
});

describe('an unreachable database', () => {
  it('postgres.js connection failures map to 503 with Retry-After', async () => {
    const nowhere = postgres('postgres://postgres@127.0.0.1:1/none', { connect_timeout: 2, max: 1, onnotice: () => {} });
    const error = await nowhere`select 1`.catch((e: unknown) => e);
    await nowhere.end({ timeout: 1 });
    const { body, headers } = problemFor(error);
    expect(body).toMatchObject({ status: 503, type: 'urn:citybrain:problem:database-unavailable' });
    expect(headers).toEqual({ 'Retry-After': '5' });
    for (const code of ['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNREFUSED', '57P01', '08006']) {
      expect(problemFor(Object.assign(new Error('down'), { code })).body.status, code).toBe(503);
    }
    expect(problemFor(Object.assign(new Error('unique violation'), { code: '23505' })).body.status).toBe(500);
  });

  it('a server whose database went away answers 503, not 500', async () => {
    const lonely = await startTestServer({ projector: false, demoUsers: false });
    try {
      await lonely.createUser({ username: 'admin', role: 'admin', agency: 'police' });
      const token = await lonely.login('admin');
      await lonely.sql.end({ timeout: 1 });
      const health = await lonely.call('GET', '/api/health');
      expectProblem(health, 503);
      expect(health.headers.get('retry-after')).toBe('5');
      const list = await lonely.call('GET', '/api/incidents', { token });
      expectProblem(list, 503);
      const write = await lonely.call('POST', '/api/incidents', { token, body: valid });
      expectProblem(write, 503);
    } finally {
      await lonely.close().catch(() => {});
    }
  });
});

describe('validation sentences', () => {
  it('read well for every keyword the schemas use', () => {
    const one = (keyword: string, instancePath: string, params: Record<string, unknown>, context = 'body') =>
      describeValidationError([{ keyword, instancePath, params }], context).detail;
    expect(one('type', '/priority', { type: 'integer' })).toBe("The field 'priority' must be a whole number.");
    expect(one('type', '', { type: 'object' })).toBe('The request body must be a JSON object.');
    expect(one('maximum', '/location/lat', { comparison: '<=', limit: 90 })).toBe("The field 'location.lat' must be <= 90.");
    expect(one('additionalProperties', '/reporter', { additionalProperty: 'email' })).toBe("The field 'reporter.email' is not allowed.");
    expect(one('required', '', { missingProperty: 'reason' })).toBe("The field 'reason' is required.");
    expect(one('minLength', '/text', { limit: 1 })).toBe("The field 'text' must not be empty.");
    expect(one('enum', '/agencies/2', { allowedValues: ['fire', 'ems'] })).toBe("The field 'agencies[2]' must be one of: 'fire', 'ems'.");
    expect(one('format', '/from', { format: 'date-time' }, 'querystring')).toBe(
      "The query parameter 'from' must be a date and time in ISO 8601 form, e.g. 2026-11-25T08:00:00Z.",
    );
  });
});
