// Acceptance 4: a P1 left undispatched raises exactly one overdue alert at the configured time. The clock is
// injected (nothing sleeps); "overdue" is the pure dueTimers rule, recorded once as IncidentStatusOverdue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATUS_TIMERS, dueTimers, type StatusTimerRule, type TimerIncident } from '../../domain/index.ts';
import { StatusTimerWatch } from '../../api/decision/statusTimerWatch.ts';
import { command, JIAN } from '../api/fixtures.ts';
import { LiveClient } from '../api/liveClient.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { caughtUp } from './support.ts';

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const p1 = (over: Partial<TimerIncident> = {}): TimerIncident => ({
  incidentId: 'i1',
  status: 'reported',
  priority: 1,
  reportedAt: new Date(T0).toISOString(),
  units: [],
  ...over,
});

describe('dueTimers (pure)', () => {
  it('is due exactly at the configured time, not a millisecond before', () => {
    expect(dueTimers([p1()], DEFAULT_STATUS_TIMERS, T0 + 59_999)).toEqual([]);
    const due = dueTimers([p1()], DEFAULT_STATUS_TIMERS, T0 + 60_000);
    expect(due).toEqual([
      expect.objectContaining({ incidentId: 'i1', ruleId: 'p1-not-dispatched', status: 'reported', since: '2026-03-02T09:00:00.000Z', dueAt: '2026-03-02T09:01:00.000Z', clearsOn: 'dispatch' }),
    ]);
  });

  it('raises nothing already raised, nothing for other priorities or statuses, and follows the configuration', () => {
    const [first] = dueTimers([p1()], DEFAULT_STATUS_TIMERS, T0 + 60_000);
    expect(dueTimers([p1({ raised: new Set([first!.key]) })], DEFAULT_STATUS_TIMERS, T0 + 120_000)).toEqual([]);
    expect(dueTimers([p1({ priority: 3 })], DEFAULT_STATUS_TIMERS, T0 + 60_000)).toEqual([]);
    expect(dueTimers([p1({ status: 'dispatched', firstDispatchedAt: new Date(T0 + 30_000).toISOString() })], DEFAULT_STATUS_TIMERS, T0 + 60_000)).toEqual([]);
    const strict: StatusTimerRule[] = [{ ...DEFAULT_STATUS_TIMERS[0]!, limitSeconds: 30 }];
    expect(dueTimers([p1()], strict, T0 + 30_000).map((d) => d.dueAt)).toEqual(['2026-03-02T09:00:30.000Z']);
  });

  it('times units too: en route for over 15 minutes', () => {
    const incident = p1({ status: 'dispatched', priority: 3, units: [{ unitId: 'u1', status: 'en_route', since: new Date(T0).toISOString() }] });
    expect(dueTimers([incident], DEFAULT_STATUS_TIMERS, T0 + 899_999)).toEqual([]);
    expect(dueTimers([incident], DEFAULT_STATUS_TIMERS, T0 + 900_000)).toEqual([expect.objectContaining({ ruleId: 'unit-en-route-long', unitId: 'u1', subject: 'unit' })]);
  });
});

describe(`status timers over the API (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a P1 left undispatched raises exactly one overdue alert, at 60 s, on the live feed and the board; dispatch clears it', async () => {
    const ticket = (await server.call('POST', '/api/live/ticket', { token: await server.login('dispatcher.fire') })).body.ticket;
    const live = await LiveClient.open(server.baseUrl, { ticket });
    try {
      const id = (await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 1, location: JIAN }, 201)).body.id as string;
      const token = await server.login('dispatcher.fire');
      const reportedAt = Date.parse((await caughtUp(server, id)).reportedAt);
      const watch = new StatusTimerWatch({ store: server.store, sql: server.sql });
      // A second API instance runs its own watch over the same store: it must not raise a second alert.
      const other = new StatusTimerWatch({ store: server.store, sql: server.sql });

      expect(await watch.tick(reportedAt + 59_999)).toEqual([]);
      const raised = await watch.tick(reportedAt + 60_000);
      expect(raised.map((r) => [r.incidentId, r.ruleId])).toEqual([[id, 'p1-not-dispatched']]);
      await server.settle();
      expect(await watch.tick(reportedAt + 61_000)).toEqual([]);
      expect(await other.tick(reportedAt + 60_000)).toEqual([]);
      expect(await watch.tick(reportedAt + 300_000)).toEqual([]);

      await caughtUp(server, id);
      const events = (await server.store.readStream(`incident-${id}`)).filter((e) => e.type === 'IncidentStatusOverdue');
      expect(events).toHaveLength(1);
      expect(events[0]!.data).toMatchObject({ ruleId: 'p1-not-dispatched', status: 'reported', limitSeconds: 60, dueAt: new Date(reportedAt + 60_000).toISOString() });
      expect(events[0]!.metadata).toMatchObject({ actor: 'system:status-timers', agency: 'fire', occurredAt: new Date(reportedAt + 60_000).toISOString() });

      const board = (await server.call('GET', `/api/incidents/${id}`, { token })).body;
      expect(board.overdue).toEqual([expect.objectContaining({ ruleId: 'p1-not-dispatched', since: new Date(reportedAt).toISOString() })]);

      await live.until((m) => m.some((x) => x.type === 'change' && x.eventType === 'IncidentStatusOverdue'), 'the overdue alert on the live feed');
      const alerts = live.changes().filter((c) => c.eventType === 'IncidentStatusOverdue');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ id, incident: { overdue: [expect.objectContaining({ ruleId: 'p1-not-dispatched' })] } });
      await live.until((m) => m.some((x) => x.type === 'alert'), 'the alert message');
      expect(live.messages.filter((m) => m.type === 'alert')).toEqual([
        expect.objectContaining({ type: 'alert', kind: 'overdue', incidentId: id, ruleId: 'p1-not-dispatched', dueAt: new Date(reportedAt + 60_000).toISOString() }),
      ]);

      // Dispatching clears the alert from the board (the map turns it back from red).
      const admin = await server.login('admin');
      const unit = (await server.call('POST', '/api/units', { token: admin, body: { callSign: 'E-1', agency: 'fire', type: 'engine', homeStation: 'Fire 1', position: JIAN } })).body.id;
      await command(server, 'dispatcher.fire', `/api/incidents/${id}/triage`, {});
      await command(server, 'dispatcher.fire', `/api/incidents/${id}/assignments`, { unitId: unit });
      expect((await caughtUp(server, id, 'dispatcher.fire')).overdue).toEqual([]);
      expect(await watch.tick(reportedAt + 120_000)).toEqual([]);
    } finally {
      await live.close();
    }
  });
});
