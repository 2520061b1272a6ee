// Acceptance 5 and the exports: personal data is stored sealed with a per-incident key; erasing destroys the
// key, after which the incident's history still verifies and no longer contains the name or the number.
// Exports come as JSON, CSV and a signed bundle that the verify tool checks offline.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../api/audit/exports.ts';
import { auditKey } from '../../api/audit/secret.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { incident, ok, send, unit } from './support.ts';

let server: TestServer;
let auditor: string;
let admin: string;
let id: string;
const NAME = '张三丰';
const PHONE = '13712345678';
const kind = process.env.DATABASE_URL ? 'postgres' : 'pglite';

beforeAll(async () => {
  server = await startTestServer();
  auditor = await server.login('auditor');
  admin = await server.login('admin');
  const engine = await unit(server, 'fire', 'E-9', 'engine');
  id = await incident(server, 'dispatcher.fire', { type: 'fire', priority: 1, reporter: { name: NAME, phone: PHONE } });
  await ok(server, 'dispatcher.fire', `/api/incidents/${id}/triage`, {});
  await ok(server, 'dispatcher.fire', `/api/incidents/${id}/assignments`, { unitId: engine });
  await ok(server, 'supervisor.fire', `/api/incidents/${id}/units/${engine}/status`, { status: 'on_scene' });
  await ok(server, 'dispatcher.fire', `/api/incidents/${id}/notes`, { text: 'Smoke on the third floor, "heavy"' });
  await server.settle();
}, 120_000);
afterAll(async () => {
  await server?.close();
});

async function rawText(): Promise<string> {
  const tables = ['events', 'event_log', 'incident_board', 'time_travel_states', 'time_travel_latest', 'audit_log', 'idempotency_keys'];
  const parts: string[] = [];
  for (const t of tables) parts.push(JSON.stringify(await server.sql.unsafe(`select * from ${t}`)));
  return parts.join('\n');
}

const get = (path: string, token = auditor) => server.call('GET', path, { token });

describe(`personal data and exports (${kind})`, () => {
  it('never stores the name or number in the clear, yet shows them to those who may see them', async () => {
    expect(await rawText()).not.toContain(NAME);
    expect(await rawText()).not.toContain(PHONE);
    const record = await get(`/api/incidents/${id}/export`);
    expect(record.status).toBe(200);
    expect(record.body.personalData).toEqual({ status: 'held' });
    expect(record.body.events[0].data.reporter).toEqual({ name: NAME, phone: PHONE });
    // A retried report (same Idempotency-Key) is still recognised: sealing is deterministic.
    const key = crypto.randomUUID();
    const body = { type: 'medical', priority: 2, location: { lat: 27.1, lng: 115 }, reporter: { name: 'Retry Person', phone: '1' } };
    const once = await send(server, 'dispatcher.ems', 'POST', '/api/incidents', body, { 'idempotency-key': key });
    const twice = await send(server, 'dispatcher.ems', 'POST', '/api/incidents', body, { 'idempotency-key': key });
    expect(once.status).toBe(201);
    expect(twice.body).toEqual(once.body);
  });

  it('exports the full record as JSON and as CSV, with who, when and why on every line', async () => {
    const json = await get(`/api/incidents/${id}/export?format=json`);
    expect(json.headers.get('content-disposition')).toContain(`incident-${id}.json`);
    expect(json.body.events.map((e: any) => e.type)).toEqual(
      expect.arrayContaining(['IncidentReported', 'IncidentTriaged', 'UnitAssignedToIncident', 'AssignedUnitStatusChanged', 'IncidentNoteAdded']),
    );
    for (const e of json.body.events) expect(e).toMatchObject({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), metadata: { actor: expect.any(String), requestId: expect.any(String) } });

    const csv = await get(`/api/incidents/${id}/export?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (csv.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe('position,occurredAt,recordedAt,streamId,revision,type,actor,role,agency,reason,commandId,correlationId,causationId,requestId,clientAddress,data,hash');
    expect(lines.length).toBe(json.body.events.length + 1);
    expect(csv.body).toContain('"{""text"":""Smoke on the third floor, \\""heavy\\""""}"');
    expect(csv.body).toContain(NAME);

    expect((await get(`/api/incidents/${id}/export?format=xml`)).status).toBe(400);
    expect((await get(`/api/incidents/nope/export`)).status).toBe(404);
    expect((await get(`/api/incidents/${id}/export`, await server.login('dispatcher.fire'))).status).toBe(403);
  });

  it('signs a bundle that checks offline, by the function and by npm run audit:verify, and fails once altered', async () => {
    const bundle = (await get(`/api/incidents/${id}/export?format=bundle`)).body;
    const key = auditKey(server.config);
    expect(verifyBundle(bundle, key)).toMatchObject({ ok: true, signatureValid: true });
    const forged = structuredClone(bundle);
    forged.events[1].data.priority = 5;
    expect(verifyBundle(forged, key)).toMatchObject({ ok: false, signatureValid: false, firstBroken: { eventId: bundle.events[1].eventId } });
    expect(verifyBundle(bundle, Buffer.from('another key that is long enough to be one'))).toMatchObject({ ok: false, signatureValid: false, firstBroken: null });

    const dir = mkdtempSync(join(tmpdir(), 'cbd-bundle-'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify(bundle));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(forged));
    const tool = (file: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', '--bundle', join(dir, file)], {
        env: { ...process.env, JWT_SECRET: server.config.jwtSecret, DEMO: 'false', DATABASE_URL: '' },
      }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
    const good = await tool('good.json');
    expect(good.out).toMatch(/verified ✓/);
    expect(good.code).toBe(0);
    const bad = await tool('bad.json');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(bundle.events[1].eventId);
  }, 60_000);

  it('erasure (admin only, with a reason) removes the name and number everywhere while the record still verifies', async () => {
    expect((await server.call('POST', `/api/incidents/${id}/erase-personal-data`, { token: auditor, body: { reason: 'Court order 2026-17' } })).status).toBe(403);
    const noReason = await server.call('POST', `/api/incidents/${id}/erase-personal-data`, { token: admin, body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.detail).toMatch(/reason/);
    expect((await server.call('POST', `/api/incidents/nope/erase-personal-data`, { token: admin, body: { reason: 'x' } })).status).toBe(404);
    const before = (await get(`/api/incidents/${id}/export?format=bundle`)).body;

    const erased = await server.call('POST', `/api/incidents/${id}/erase-personal-data`, { token: admin, body: { reason: 'Court order 2026-17' } });
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    expect(erased.body).toMatchObject({ incidentId: id, reason: 'Court order 2026-17' });
    const again = await server.call('POST', `/api/incidents/${id}/erase-personal-data`, { token: admin, body: { reason: 'twice' } });
    expect(again.status).toBe(409);

    const history = await get(`/api/incidents/${id}/history`);
    expect(history.status).toBe(200);
    const record = await get(`/api/incidents/${id}/export`);
    const csv = await get(`/api/incidents/${id}/export?format=csv`);
    const state = await get(`/api/incidents/${id}/state?at=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    for (const text of [JSON.stringify(history.body), JSON.stringify(record.body), csv.body as string, JSON.stringify(state.body), await rawText()]) {
      expect(text).not.toContain(NAME);
      expect(text).not.toContain(PHONE);
    }
    expect(state.body.incident.reporter).toBeUndefined();
    expect(record.body.personalData).toMatchObject({ status: 'erased', reason: 'Court order 2026-17' });
    expect(record.body.events.length).toBe(history.body.length);

    // The audit trail is intact: every hash still holds, the bundle exported before still verifies, and the
    // stored events are byte for byte those of before.
    const verify = await get('/api/audit/verify');
    expect(verify.body.ok, verify.body.summary).toBe(true);
    const after = (await get(`/api/incidents/${id}/export?format=bundle`)).body;
    expect(verifyBundle(after, auditKey(server.config)).ok).toBe(true);
    expect(after.events.map((e: any) => e.hash)).toEqual(before.events.map((e: any) => e.hash));

    const log = await get('/api/audit/log?kind=erasure');
    expect(log.body.items).toEqual([expect.objectContaining({ kind: 'erasure', username: 'admin', detail: 'Court order 2026-17', data: { incidentId: id, fields: ['reporter.name', 'reporter.phone'] } })]);
  });
});
