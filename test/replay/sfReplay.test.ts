import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kpisFromCalls } from '../../scripts/replay/kpis.ts';
import { replayCalls, type ReplayResult } from '../../scripts/replay/run.ts';
import { readSfCalls, type SfCall, SF_CALLS_FILE } from '../../scripts/replay/sfCalls.ts';
import { expectProblem, expectStatus, JIAN } from '../api/fixtures.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';

// CI keeps a copy of shared/ beside the clone, at the same relative path as here.
const SF_FILE = SF_CALLS_FILE;
const LIMIT = 500;

let server: TestServer;
let calls: SfCall[];
let result: ReplayResult;

beforeAll(async () => {
  if (!existsSync(SF_FILE)) throw new Error(`the SF dataset is missing: ${SF_FILE}`);
  calls = readSfCalls(SF_FILE, { limit: LIMIT });
  server = await startTestServer();
  result = await replayCalls({ url: server.baseUrl, calls, speed: 'max', username: 'admin', password: TEST_PASSWORD });
  // About 6,500 commands through the import batch: 80-270 s with PGlite on two shared, busy cores; about 100 s on PostgreSQL.
}, 600_000);
afterAll(async () => {
  await server?.close();
});

describe(`replay of the first ${LIMIT} SF calls (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('takes the first calls by received time, with their units', () => {
    expect(calls).toHaveLength(LIMIT);
    const received = calls.map((c) => c.received);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    // 2020-04-07 00:00 in San Francisco (PDT, UTC-7) is 07:00 UTC.
    expect(new Date(received[0]!).toISOString() >= '2020-04-07T07:00:00.000Z').toBe(true);
    expect(calls.every((c) => c.units.length > 0)).toBe(true);
  });

  it('sends every fact without an error', () => {
    expect(result.errors).toEqual([]);
    expect(result.calls).toBe(LIMIT);
    expect(result.commands).toBeGreaterThan(LIMIT * 6);
  });

  it('GET /api/dashboard shows the same counts by type, median and P90 times as the file', () => {
    const fromFile = kpisFromCalls(calls);
    expect(fromFile.receivedToDispatch.n).toBe(LIMIT);
    expect(fromFile.receivedToOnScene.n).toBeGreaterThan(LIMIT * 0.8);
    expect(result.system.countsByType).toEqual(fromFile.countsByType);
    for (const kpi of ['receivedToDispatch', 'receivedToOnScene'] as const) {
      expect(result.system[kpi].n, kpi).toBe(fromFile[kpi].n);
      expect(result.system[kpi].p50, `${kpi} P50`).toBeCloseTo(fromFile[kpi].p50!, 6);
      expect(result.system[kpi].p90, `${kpi} P90`).toBeCloseTo(fromFile[kpi].p90!, 6);
    }
    expect(result.mismatches).toEqual([]);
  });

  it("keeps the file's business time beside the store's own recorded time in the history", async () => {
    const call = calls[0]!;
    const [row] = await server.sql<{ id: string }[]>`select id from incident_board where description like ${`SFFD call ${call.callNumber} %`}`;
    const history = await server.call('GET', `/api/incidents/${row!.id}/history`, { token: await server.login('auditor') });
    expectStatus(history, 200);
    const reported = history.body.find((e: { type: string }) => e.type === 'IncidentReported');
    expect(reported.occurredAt).toBe(new Date(call.received).toISOString());
    expect(Date.parse(reported.recordedAt)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z') - 365 * 86_400_000);
    expect(Date.parse(reported.recordedAt) - Date.parse(reported.occurredAt)).toBeGreaterThan(86_400_000);
    const firstAssign = history.body.find((e: { type: string }) => e.type === 'UnitAssignedToIncident');
    expect(firstAssign.occurredAt).toBe(new Date(Math.min(...call.units.map((u) => u.dispatch!))).toISOString());
  });

  it('lets only admins import, never in the future, and no ordinary command chooses its own time', async () => {
    const body = { occurredAt: '2020-04-07T07:00:00Z', type: 'medical', priority: 2, location: JIAN };
    const dispatcher = await server.login('dispatcher.ems');
    expectProblem(await server.call('POST', '/api/import/incidents', { token: dispatcher, body }), 403);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const admin = await server.login('admin');
    const refused = await server.call('POST', '/api/import/incidents', { token: admin, body: { ...body, occurredAt: future } });
    expectProblem(refused, 400);
    expect(refused.body.detail).toMatch(/future/);
    const ordinary = await server.call('POST', '/api/incidents', { token: dispatcher, body: { type: 'medical', priority: 2, location: JIAN, occurredAt: '2020-04-07T07:00:00Z' } });
    expectProblem(ordinary, 400);
    expect(ordinary.body.detail).toMatch(/occurredAt/);
  });
});
