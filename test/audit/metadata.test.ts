// Acceptance 1: every command route's events carry the full audit metadata; refused commands, log-ins and
// auditors' reads appear in the audit log, which no route can change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { JIAN } from '../api/fixtures.ts';
import { incident, ok, send, unit } from './support.ts';
import { readAllSettled } from '../support/settledLog.ts';

let server: TestServer;
const kind = process.env.DATABASE_URL ? 'postgres' : 'pglite';

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function userId(username: string): Promise<string> {
  const [row] = await server.sql<{ id: string }[]>`select id from users where username = ${username}`;
  return row!.id;
}

async function auditLog(query = '') {
  const r = await server.call('GET', `/api/audit/log${query}`, { token: await server.login('auditor') });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.items as Array<Record<string, any>>;
}

describe(`audit metadata and the audit log (${kind})`, () => {
  it('every command route writes events that say who, in which role and agency, when, why, from where, for which request and command', async () => {
    type Call = { username: string; path: string; body: unknown; status?: number; reason?: string; agency: string; role: string };
    const calls: Array<Call & { requestId: string }> = [];
    const run = async (call: Call) => {
      const r = await ok(server, call.username, call.path, call.body, call.status ?? 200);
      calls.push({ ...call, requestId: r.requestId });
      return r;
    };
    const traffic = await run({ username: 'admin', role: 'admin', agency: 'police', path: '/api/units', body: { callSign: 'JT-9', agency: 'traffic', type: 'traffic_patrol', homeStation: 'T1', position: JIAN }, status: 201 });
    const unitId = traffic.body.id as string;
    const reported = await run({ username: 'dispatcher.traffic', role: 'dispatcher', agency: 'traffic', path: '/api/incidents', body: { type: 'traffic_accident', priority: 3, location: JIAN, reporter: { name: '李女士', phone: '13900000000' } }, status: 201 });
    const id = reported.body.id as string;
    const base = `/api/incidents/${id}`;
    const d = { username: 'dispatcher.traffic', role: 'dispatcher', agency: 'traffic' };
    const s = { username: 'supervisor.traffic', role: 'supervisor', agency: 'traffic' };
    await run({ ...d, path: `${base}/triage`, body: { priority: 2 } });
    await run({ ...d, path: `${base}/escalate`, body: { priority: 1, reason: 'Fuel leaking' }, reason: 'Fuel leaking' });
    await run({ ...d, path: `${base}/assignments`, body: { unitId } });
    await run({ ...s, path: `${base}/units/${unitId}/status`, body: { status: 'en_route' } });
    await run({ ...s, path: `${base}/units/${unitId}/status`, body: { status: 'on_scene' } });
    await run({ ...s, path: `${base}/notes`, body: { text: 'Road blocked both ways' } });
    await run({ ...s, path: `${base}/units/${unitId}/status`, body: { status: 'cleared' } });
    await run({ ...s, path: `${base}/resolve`, body: { summary: 'Cleared' } });
    await run({ ...d, path: `${base}/close`, body: {} });
    await run({ ...d, path: `${base}/reopen`, body: { reason: 'Second vehicle found' }, reason: 'Second vehicle found' });
    await run({ ...d, path: `${base}/cancel`, body: { reason: 'Handled by the highway patrol' }, reason: 'Handled by the highway patrol' });
    await run({ ...s, path: `/api/units/${unitId}/location`, body: { lat: 27.12, lng: 114.99, heading: 10, speedKmh: 30 } });
    await run({ ...s, path: `/api/units/${unitId}/status`, body: { status: 'out_of_service', reason: 'Flat tyre' }, reason: 'Flat tyre' });

    await server.settle();
    const events = await readAllSettled(server.store);
    for (const call of calls) {
      const written = events.filter((e) => e.metadata.requestId === call.requestId);
      expect(written.length, `${call.path} wrote no event carrying its request id`).toBeGreaterThan(0);
      for (const e of written) {
        const m = e.metadata;
        expect(m, `${e.type} from ${call.path}`).toMatchObject({
          actor: await userId(call.username),
          role: call.role,
          agency: call.agency,
          commandId: expect.any(String),
          $correlationId: expect.any(String),
          $causationId: expect.any(String),
          requestId: call.requestId,
          clientAddress: '127.0.0.1',
          schemaVersion: expect.any(Number),
        });
        expect(Date.parse(m.occurredAt as string), `${e.type} occurredAt`).not.toBeNaN();
        if (call.reason) expect(m.reason).toBe(call.reason);
        if (e.streamId.startsWith('incident-')) expect(m.$correlationId).toBe(e.streamId.slice('incident-'.length));
      }
    }
    // And each event is hashed and chained in the store itself.
    const [unhashed] = await server.sql<{ n: string }[]>`select count(*)::text as n from events where hash is null or content_hash is null or prev_hash is null`;
    expect(unhashed!.n).toBe('0');
  });

  it('records log-ins and failed log-ins, with the client address and request id', async () => {
    const failed = await server.call('POST', '/api/auth/login', { body: { username: 'dispatcher.fire', password: 'hunter2-secret' }, headers: { 'x-request-id': 'failed-login-1' } });
    expect(failed.status).toBe(401);
    const ghost = await server.call('POST', '/api/auth/login', { body: { username: 'nobody', password: 'x' } });
    expect(ghost.status).toBe(401);
    const good = await server.call('POST', '/api/auth/login', { body: { username: 'dispatcher.fire', password: 'demo' }, headers: { 'x-request-id': 'good-login-1' } });
    expect(good.status).toBe(200);

    const failures = await auditLog('?kind=login_failed');
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'login_failed', username: 'dispatcher.fire', requestId: 'failed-login-1', clientAddress: '127.0.0.1', status: 401 }),
        expect.objectContaining({ kind: 'login_failed', username: 'nobody', status: 401 }),
      ]),
    );
    const logins = await auditLog('?kind=login');
    expect(logins).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'login', username: 'dispatcher.fire', actor: await userId('dispatcher.fire'), role: 'dispatcher', agency: 'fire', requestId: 'good-login-1' }),
      ]),
    );
    // No password ever reaches the log.
    expect(JSON.stringify(await auditLog())).not.toContain('hunter2-secret');
  });

  it('records refused commands — 403, 409 and 412 — with who was refused and why', async () => {
    const id = await incident(server, 'dispatcher.traffic');
    const forbidden = await send(server, 'supervisor.traffic', 'POST', '/api/incidents', { type: 'fire', priority: 1, location: JIAN });
    expect(forbidden.status).toBe(403);
    const wrongState = await send(server, 'dispatcher.traffic', 'POST', `/api/incidents/${id}/close`, {});
    expect(wrongState.status).toBe(409);
    const stale = await send(server, 'dispatcher.traffic', 'POST', `/api/incidents/${id}/triage`, { priority: 2 }, { 'if-match': '"7"' });
    expect(stale.status).toBe(412);

    const refused = await auditLog('?kind=command_refused&limit=1000');
    const find = (rid: string) => refused.find((e) => e.requestId === rid);
    expect(find(forbidden.requestId)).toMatchObject({ status: 403, username: 'supervisor.traffic', role: 'supervisor', agency: 'traffic', method: 'POST', path: '/api/incidents', detail: forbidden.body.detail });
    expect(find(wrongState.requestId)).toMatchObject({ status: 409, username: 'dispatcher.traffic', path: `/api/incidents/${id}/close`, detail: wrongState.body.detail });
    expect(find(stale.requestId)).toMatchObject({ status: 412, username: 'dispatcher.traffic', detail: stale.body.detail });
    expect(find(forbidden.requestId)!.actor).toBe(await userId('supervisor.traffic'));
  });

  it("records auditors' reads of histories and exports, and not dispatchers' ordinary reads", async () => {
    const id = await incident(server, 'dispatcher.police', { type: 'public_order' });
    await server.settle();
    const auditorToken = await server.login('auditor');
    expect((await server.call('GET', `/api/incidents/${id}/history`, { token: auditorToken, headers: { 'x-request-id': 'read-history-1' } })).status).toBe(200);
    expect((await server.call('GET', `/api/incidents/${id}/export?format=csv`, { token: auditorToken, headers: { 'x-request-id': 'read-export-1' } })).status).toBe(200);
    expect((await server.call('GET', `/api/incidents/${id}/history`, { token: await server.login('dispatcher.police'), headers: { 'x-request-id': 'read-history-2' } })).status).toBe(200);

    const reads = await auditLog('?kind=audit_read&limit=1000');
    expect(reads.find((e) => e.requestId === 'read-history-1')).toMatchObject({ username: 'auditor', role: 'auditor', path: `/api/incidents/${id}/history` });
    expect(reads.find((e) => e.requestId === 'read-export-1')).toMatchObject({ username: 'auditor', data: { route: '/api/incidents/:id/export', query: { format: 'csv' } } });
    expect(reads.find((e) => e.requestId === 'read-history-2')).toBeUndefined();
  });

  it('keeps the audit log out of reach: no route changes it, only auditors and admins read it, and the database refuses edits', async () => {
    const admin = await server.login('admin');
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      const r = await server.call(method, '/api/audit/log', { token: admin, body: {} });
      expect([404, 405], `${method} /api/audit/log`).toContain(r.status);
    }
    expect((await server.call('DELETE', '/api/audit/checkpoints', { token: admin })).status).toBe(404);
    const dispatcher = await server.call('GET', '/api/audit/log', { token: await server.login('dispatcher.police') });
    expect(dispatcher.status).toBe(403);
    expect(dispatcher.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await server.call('GET', '/api/audit/log?kind=everything', { token: admin })).status).toBe(400);

    const before = await auditLog('?limit=1000');
    await expect(server.sql`update audit_log set detail = 'nothing happened' where seq = 1`).rejects.toThrow(/append-only/);
    await expect(server.sql`delete from audit_log where seq = 1`).rejects.toThrow(/append-only/);
    const after = await auditLog('?limit=1000');
    expect(after.slice(0, before.length).map((e) => e.hash)).toEqual(before.map((e) => e.hash));
  });
});
