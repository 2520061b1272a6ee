// Acceptance 5: a rectification order past its deadline appears in the overdue queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enforcementQueue } from '../../domain/index.ts';
import { command, expectProblem, expectStatus, JIAN } from '../api/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { caughtUp } from './support.ts';

const DAY = 86_400_000;

describe('enforcementQueue (pure)', () => {
  const ordered = (incidentId: string, dueAt: string) => ({
    incidentId,
    type: 'work_safety_violation',
    agencies: ['safety'],
    enforcement: { stage: 'rectification_ordered' as const, dueAt, requirements: 'Fix the fire exits' },
  });
  it('lists open cases soonest due first and flags those past their due date', () => {
    const now = Date.parse('2026-03-10T12:00:00.000Z');
    const queue = enforcementQueue(
      [
        ordered('later', '2026-03-12T08:00:00.000Z'),
        ordered('late', '2026-03-09T08:00:00.000Z'),
        { incidentId: 'closed', type: 'illegal_construction', agencies: ['urban'], enforcement: { stage: 'closed' as const, outcome: 'rectified' as const } },
      ],
      now,
    );
    expect(queue.map((q) => [q.incidentId, q.overdue, q.daysLeft])).toEqual([
      ['late', true, -2],
      ['later', false, 1],
    ]);
  });
});

describe(`enforcement cases over the API (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  let caseId = '';
  const queue = async (username: string, query: string) => {
    if (caseId) await caughtUp(server, caseId);
    const r = await server.call('GET', `/api/enforcement/queue?${query}`, { token: await server.login(username) });
    expectStatus(r, 200);
    return r.body as any[];
  };

  it('inspection → rectification order with a deadline in days → due in the queue → overdue past it → re-inspection escalates or closes', async () => {
    const id = (await command(server, 'dispatcher.safety', '/api/incidents', { type: 'work_safety_violation', priority: 4, location: JIAN, address: '吉州区 工业园 3号厂房' }, 201)).body.id as string;
    const base = `/api/incidents/${id}`;
    caseId = id;
    await command(server, 'dispatcher.safety', `${base}/triage`, {});
    await command(server, 'supervisor.safety', `${base}/inspection`, { findings: 'Fire exits blocked by stock', violationFound: true });
    const resolveEarly = await server.call('POST', `${base}/resolve`, { token: await server.login('dispatcher.safety'), body: {} });
    expectProblem(resolveEarly, 409);
    expect(resolveEarly.body.detail).toMatch(/order its rectification first/);

    await command(server, 'dispatcher.safety', `${base}/rectification`, { requirements: 'Clear both fire exits', deadlineDays: 3 });
    const enforcement = (await caughtUp(server, id, 'dispatcher.safety')).enforcement;
    const orderedAt = Date.parse(enforcement.orderedAt);
    expect(enforcement).toMatchObject({ stage: 'rectification_ordered', deadlineDays: 3, dueAt: new Date(orderedAt + 3 * DAY).toISOString() });

    const at = (ms: number) => `at=${encodeURIComponent(new Date(ms).toISOString())}`;
    const inTwoDays = await queue('dispatcher.safety', at(orderedAt + 2 * DAY));
    expect(inTwoDays).toEqual([expect.objectContaining({ incidentId: id, stage: 'rectification_ordered', overdue: false, daysLeft: 1, requirements: 'Clear both fire exits', address: '吉州区 工业园 3号厂房' })]);
    expect(await queue('dispatcher.safety', `${at(orderedAt + 2 * DAY)}&overdue=true`)).toEqual([]);

    const late = await queue('dispatcher.safety', `${at(orderedAt + 4 * DAY)}&overdue=true`);
    expect(late).toEqual([expect.objectContaining({ incidentId: id, overdue: true, daysLeft: -1 })]);
    // Other agencies' staff do not see safety cases; auditors do.
    expect(await queue('dispatcher.urban', at(orderedAt + 4 * DAY))).toEqual([]);
    expect((await queue('auditor', at(orderedAt + 4 * DAY))).map((q) => q.incidentId)).toEqual([id]);

    const stillRunning = await server.call('POST', `${base}/resolve`, { token: await server.login('dispatcher.safety'), body: {} });
    expectProblem(stillRunning, 409);
    expect(stillRunning.body.detail).toMatch(/rectification order runs/);

    // Not rectified: the case escalates (and leaves the rectification queue until a new order is made).
    await command(server, 'supervisor.safety', `${base}/reinspection`, { compliant: false, findings: 'One exit still blocked' });
    expect((await caughtUp(server, id, 'dispatcher.safety')).enforcement).toMatchObject({
      stage: 'escalated',
      escalationReason: expect.stringMatching(/Not rectified by the deadline .*: One exit still blocked/),
    });
    expect(await queue('dispatcher.safety', at(orderedAt + 4 * DAY))).toEqual([]);
    await command(server, 'dispatcher.safety', `${base}/rectification`, { requirements: 'Clear the east exit; fine issued', deadlineDays: 1 });
    await command(server, 'supervisor.safety', `${base}/reinspection`, { compliant: true, findings: 'Both exits clear' });
    await command(server, 'dispatcher.safety', `${base}/resolve`, { summary: 'Rectified after a second order' });

    await caughtUp(server, id);
    const history = (await server.call('GET', `${base}/history`, { token: await server.login('auditor') })).body.map((e: any) => e.type);
    expect(history.filter((t: string) => /Inspection|Rectification|Reinspection|EnforcementCase/.test(t))).toEqual([
      'InspectionRecorded',
      'RectificationOrdered',
      'ReinspectionRecorded',
      'EnforcementCaseEscalated',
      'RectificationOrdered',
      'ReinspectionRecorded',
      'EnforcementCaseClosed',
    ]);
  });

  it('an inspection without a violation closes the case at once; fires are not enforcement cases', async () => {
    const id = (await command(server, 'dispatcher.urban', '/api/incidents', { type: 'illegal_construction', priority: 4, location: JIAN }, 201)).body.id as string;
    await command(server, 'dispatcher.urban', `/api/incidents/${id}/triage`, {});
    await command(server, 'supervisor.urban', `/api/incidents/${id}/inspection`, { findings: 'Permit on file', violationFound: false });
    expect((await caughtUp(server, id, 'dispatcher.urban')).enforcement).toMatchObject({ stage: 'closed', outcome: 'no_violation' });
    const order = await server.call('POST', `/api/incidents/${id}/rectification`, { token: await server.login('dispatcher.urban'), body: { requirements: 'x', deadlineDays: 2 } });
    expectProblem(order, 409);

    const fire = (await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 3, location: JIAN }, 201)).body.id as string;
    await command(server, 'dispatcher.fire', `/api/incidents/${fire}/triage`, {});
    const refused = await server.call('POST', `/api/incidents/${fire}/inspection`, { token: await server.login('dispatcher.fire'), body: { findings: 'x', violationFound: true } });
    expectProblem(refused, 400);
    expect(refused.body.detail).toMatch(/work-safety and urban-management cases/);
  });
});
