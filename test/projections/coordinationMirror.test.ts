// The board folds the coordination picture with the same reducer the machine uses; these tests hold the board's
// acceptance table and its folded coordination to the machine, and show a rebuild equals the live tables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { StatusTimerWatch } from '../../api/decision/statusTimerWatch.ts';
import { fold, incidentDecider, incidentMachine, type IncidentEvent } from '../../domain/index.ts';
import { foldIncident, INCIDENT_ACCEPTS, machineStateOf, MERGED_ACCEPTS, type IncidentBoardRow } from '../../projections/incidentBoard.ts';
import type { ProjectedEvent } from '../../projections/projectedEvent.ts';
import { rebuildReadModels } from '../../projections/rebuild.ts';
import { command, JIAN } from '../api/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { dumpReadModels } from './support.ts';
import { boardsCaughtUp, caughtUp } from '../coordination/support.ts';

const AT = '2026-03-02T09:00:00.000Z';
const OTHER = 'other-incident';

function projected(event: IncidentEvent, seq: number): ProjectedEvent {
  return {
    seq,
    id: `00000000-0000-0000-0000-${String(seq).padStart(12, '0')}`,
    streamId: 'incident-x',
    revision: seq - 1,
    position: `1/${seq}`,
    entity: 'incident',
    entityId: 'x',
    incidentId: 'x',
    type: event.type,
    data: event.data,
    actor: 'a',
    role: 'dispatcher',
    agency: 'traffic',
    commandId: `c${seq}`,
    correlationId: 'x',
    causationId: `c${seq}`,
    requestId: null,
    reason: null,
    occurredAt: AT,
    recordedAt: AT,
  };
}

const reported: IncidentEvent = {
  type: 'IncidentReported',
  data: { incidentId: 'x', type: 'traffic_accident_injuries', priority: 2, location: { lat: 1, lng: 2 }, source: 'phone', agencies: ['traffic', 'ems', 'fire'] },
};
const triaged: IncidentEvent = { type: 'IncidentTriaged', data: { priority: 2, type: 'traffic_accident_injuries', agencies: ['traffic', 'ems', 'fire'] } };
const assigned: IncidentEvent = { type: 'UnitAssignedToIncident', data: { unitId: 'u1', agency: 'ems', callSign: 'A1', unitType: 'ambulance' } };
const cleared: IncidentEvent = { type: 'AssignedUnitStatusChanged', data: { unitId: 'u1', status: 'cleared' } };

const NEW_EVENTS: IncidentEvent[] = [
  { type: 'IncidentLegClaimed', data: { agency: 'ems', owner: 'u' } },
  { type: 'IncidentLeadHandedOver', data: { from: 'traffic', to: 'ems' } },
  { type: 'MutualAidRequested', data: { agency: 'police', requestedBy: 'traffic' } },
  { type: 'MutualAidAccepted', data: { agency: 'police', owner: 'p' } },
  { type: 'MutualAidDeclined', data: { agency: 'police', reason: 'busy' } },
  { type: 'IncidentLegCompleted', data: { agency: 'fire' } },
  { type: 'IncidentStatusOverdue', data: { ruleId: 'r', subject: 'incident', status: 'triaged', since: AT, dueAt: AT, limitSeconds: 60, clearsOn: 'dispatch' } },
  { type: 'IncidentMergedInto', data: { primaryId: OTHER } },
  { type: 'DuplicateIncidentMerged', data: { duplicateId: 'd', reports: [], notes: ['n'] } },
  { type: 'MergedIncidentSplitOff', data: { duplicateId: 'd' } },
  { type: 'IncidentSplitFromPrimary', data: { primaryId: OTHER } },
  { type: 'InspectionRecorded', data: { findings: 'f', violationFound: true } },
  { type: 'RectificationOrdered', data: { requirements: 'r', deadlineDays: 2, orderedAt: AT, dueAt: AT } },
  { type: 'ReinspectionRecorded', data: { compliant: true, findings: 'ok' } },
  { type: 'EnforcementCaseClosed', data: { outcome: 'rectified' } },
  { type: 'EnforcementCaseEscalated', data: { reason: 'r' } },
];

/** Histories reaching every state the board knows, and the merged one. */
const STATE_HISTORIES: Record<string, IncidentEvent[]> = {
  reported: [reported],
  triaged: [reported, triaged],
  dispatched: [reported, triaged, assigned],
  on_scene: [reported, triaged, assigned, { type: 'AssignedUnitStatusChanged', data: { unitId: 'u1', status: 'on_scene' } }],
  resolved: [reported, triaged, { type: 'IncidentResolved', data: {} }],
  closed: [reported, triaged, { type: 'IncidentResolved', data: {} }, { type: 'IncidentClosed', data: {} }],
  cancelled: [reported, { type: 'IncidentCancelled', data: { reason: 'r' } }],
  merged: [reported, triaged, { type: 'IncidentMergedInto', data: { primaryId: OTHER } }],
};

function boardOf(events: IncidentEvent[]): IncidentBoardRow | undefined {
  let row: IncidentBoardRow | undefined;
  events.forEach((e, i) => {
    row = foldIncident(row, projected(e, i + 1));
  });
  return row;
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v ?? null));

describe('incident_board mirrors the machine on coordination events', () => {
  for (const [name, history] of Object.entries(STATE_HISTORIES)) {
    for (const event of NEW_EVENTS) {
      it(`${name} + ${event.type}`, () => {
        const state = fold(incidentDecider, history);
        const row = boardOf(history)!;
        expect(machineStateOf(row)).toBe(state.value);
        const accepts = machineStateOf(row) === 'merged' ? MERGED_ACCEPTS : INCIDENT_ACCEPTS[row.status];
        expect(accepts.has(event.type)).toBe(state.can(event));
        const [after] = transition(incidentMachine, state, event);
        const folded = foldIncident(row, projected(event, history.length + 1))!;
        expect(machineStateOf(folded)).toBe(after.value);
        expect(folded.status).toBe(after.value === 'merged' ? 'closed' : after.value);
        expect(folded.agencies).toEqual(after.context.incident!.agencies);
        expect(plain(folded.coordination)).toEqual(plain(after.context.coordination));
      });
    }
  }

  it('folds a whole multi-agency history to the same picture as the aggregate', () => {
    const history: IncidentEvent[] = [
      reported,
      triaged,
      NEW_EVENTS[0]!,
      NEW_EVENTS[6]!,
      assigned,
      NEW_EVENTS[1]!,
      NEW_EVENTS[2]!,
      NEW_EVENTS[4]!,
      cleared,
      NEW_EVENTS[8]!,
      { type: 'IncidentLeadHandedOver', data: { from: 'ems', to: 'traffic' } },
      { type: 'IncidentLegCompleted', data: { agency: 'ems' } },
      { type: 'IncidentLegCompleted', data: { agency: 'fire' } },
      { type: 'IncidentLegCompleted', data: { agency: 'traffic' } },
      { type: 'IncidentResolved', data: { summary: 'done' } },
    ];
    const state = fold(incidentDecider, history);
    const row = boardOf(history)!;
    expect(row.status).toBe(state.value);
    expect(plain(row.coordination)).toEqual(plain(state.context.coordination));
  });
});

describe(`a rebuild equals the live tables with coordination data (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('legs, mutual aid, merge/split, overdue alerts and enforcement rebuild to the same rows', async () => {
    const admin = await server.login('admin');
    const amb = (await server.call('POST', '/api/units', { token: admin, body: { callSign: 'A-1', agency: 'ems', type: 'ambulance', homeStation: 'S', position: JIAN } })).body.id;
    const a = (await command(server, 'dispatcher.traffic', '/api/incidents', { type: 'traffic_accident_injuries', priority: 1, location: JIAN }, 201)).body.id as string;
    const b = (await command(server, 'dispatcher.traffic', '/api/incidents', { type: 'traffic_accident', priority: 3, location: JIAN }, 201)).body.id as string;
    await command(server, 'dispatcher.traffic', `/api/incidents/${a}/triage`, {});
    await command(server, 'dispatcher.ems', `/api/incidents/${a}/legs/ems/claim`);
    await command(server, 'dispatcher.traffic', `/api/incidents/${a}/mutual-aid`, { agency: 'police' });
    await command(server, 'dispatcher.police', `/api/incidents/${a}/mutual-aid/police/decline`, { reason: 'busy' });
    const reportedAt = Date.parse((await caughtUp(server, a)).reportedAt);
    await new StatusTimerWatch({ store: server.store, sql: server.sql }).tick(reportedAt + 61_000);
    await command(server, 'dispatcher.ems', `/api/incidents/${a}/assignments`, { unitId: amb });
    await command(server, 'dispatcher.traffic', `/api/incidents/${b}/merge`, { into: a });
    await command(server, 'dispatcher.traffic', `/api/incidents/${a}/lead`, { to: 'ems' });
    await command(server, 'dispatcher.traffic', `/api/incidents/${b}/split`, {});
    const c = (await command(server, 'dispatcher.urban', '/api/incidents', { type: 'illegal_construction', priority: 4, location: JIAN }, 201)).body.id as string;
    await command(server, 'dispatcher.urban', `/api/incidents/${c}/triage`, {});
    await command(server, 'dispatcher.urban', `/api/incidents/${c}/inspection`, { findings: 'Extra floor', violationFound: true });
    await command(server, 'dispatcher.urban', `/api/incidents/${c}/rectification`, { requirements: 'Remove it', deadlineDays: 7 });
    await boardsCaughtUp(server, a, b, c);
    await server.settle();

    const live = await dumpReadModels(server.sql);
    const rows = live.incident_board as Array<{ id: string; coordination: any }>;
    expect(rows.find((r) => r.id === a)!.coordination).toMatchObject({ lead: 'ems', legs: { police: { phase: 'declined' } }, overdue: [] });
    expect(rows.find((r) => r.id === c)!.coordination.enforcement.stage).toBe('rectification_ordered');
    await rebuildReadModels({ store: server.store, sql: server.sql, batchSize: 3 });
    expect(await dumpReadModels(server.sql)).toEqual(live);
  });
});
