import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidents, units } from '../../api/commands/aggregates.ts';
import { load } from '../../api/commands/commandHandler.ts';
import { incidentView, unitView } from '../../domain/index.ts';
import type { PostgresEventStore } from '../../eventstore/postgres.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { rebuildReadModels } from '../../projections/rebuild.ts';
import { startProjector, type CommittedBatch, type Projector } from '../../projections/runner.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';
import { dumpReadModels, eventLogOrder, readWholeLog, storeOn } from './support.ts';
import { DISPATCHER, runMixedWorkload, type Workload } from './workload.ts';

let db: TestDatabase;
let store: PostgresEventStore;
let projector: Projector;
let w: Workload;
let log: RecordedEvent[];
const commits: CommittedBatch[] = [];

const iso = (value: Date | null) => (value === null ? null : value.toISOString());

interface BoardRow {
  id: string;
  status: string;
  type: string;
  priority: number;
  address: string | null;
  agencies: string[];
  units: string[];
  all_units: string[];
  notes_count: number;
  revision: string;
  reported_at: Date;
  triaged_at: Date | null;
  first_dispatched_at: Date | null;
  first_en_route_at: Date | null;
  first_on_scene_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
  cancelled_at: Date | null;
  updated_at: Date;
  last_seq: string;
}

async function board(name: string): Promise<BoardRow> {
  const [row] = await db.sql<BoardRow[]>`select * from incident_board where id = ${w.incident(name)}`;
  if (!row) throw new Error(`no board row for ${name}`);
  return row;
}

async function unitRow(callSign: string) {
  const [row] = await db.sql<
    { status: string; readiness: string; incident_id: string | null; lat: number | null; lng: number | null; status_since: Date; updated_at: Date; call_sign: string; agency: string }[]
  >`select * from unit_board where id = ${w.unit(callSign)}`;
  if (!row) throw new Error(`no unit row for ${callSign}`);
  return row;
}

function milestones(row: BoardRow) {
  return {
    reported_at: iso(row.reported_at),
    triaged_at: iso(row.triaged_at),
    first_dispatched_at: iso(row.first_dispatched_at),
    first_en_route_at: iso(row.first_en_route_at),
    first_on_scene_at: iso(row.first_on_scene_at),
    resolved_at: iso(row.resolved_at),
    closed_at: iso(row.closed_at),
    cancelled_at: iso(row.cancelled_at),
    updated_at: iso(row.updated_at),
  };
}

beforeAll(async () => {
  db = await openTestDatabase({ migrate: true });
  store = storeOn(db);
  // A small batch size makes incidents span many batches, so rows are read back and folded further.
  projector = startProjector({ store, sql: db.sql, batchSize: 7, lockRetryMs: 100, heartbeatMs: 100 });
  projector.onCommitted((info) => commits.push(info));
  await projector.ready;
  expect(projector.role()).toBe('active');
  w = await runMixedWorkload(store);
  await projector.settle(60_000);
  log = await readWholeLog(store);
}, 300_000);

afterAll(async () => {
  await projector?.stop();
  await store?.close();
  await db?.close();
});

describe('the live projector', () => {
  it('writes every event to event_log exactly once, numbered 1..n in log order', async () => {
    expect(log.length).toBeGreaterThan(300);
    const { ids, seqs } = await eventLogOrder(db.sql);
    expect(ids).toEqual(log.map((e) => e.id));
    expect(seqs).toEqual(log.map((_, i) => i + 1));
    expect(projector.seq()).toBe(log.length);
    const [checkpoint] = await db.sql<{ seq: string; position: string }[]>`select seq::text, position from projection_checkpoints where projection = 'read-models'`;
    expect(checkpoint).toEqual({ seq: String(log.length), position: log.at(-1)!.position });
  });

  it('told its listeners about every batch, in order, ending at the last seq', () => {
    expect(commits.length).toBeGreaterThan(10);
    expect(commits.reduce((sum, c) => sum + c.events, 0)).toBe(log.length);
    expect(commits.map((c) => c.toSeq)).toEqual([...commits.map((c) => c.toSeq)].sort((a, b) => a - b));
    expect(commits.at(-1)!.toSeq).toBe(log.length);
    expect(commits.every((c) => c.events <= 7)).toBe(true);
  });

  it('records the audit metadata of each event', async () => {
    const meta = w.metas.get('close blaze')!;
    const [row] = await db.sql`select * from event_log where command_id = ${meta.commandId}`;
    const stored = log.find((e) => e.metadata.commandId === meta.commandId)!;
    expect(row).toMatchObject({
      event_id: stored.id,
      stream_id: `incident-${w.incident('blaze')}`,
      stream_revision: String(stored.revision),
      entity: 'incident',
      entity_id: w.incident('blaze'),
      incident_id: w.incident('blaze'),
      type: 'IncidentClosed',
      data: {},
      actor: DISPATCHER.actor,
      role: DISPATCHER.role,
      agency: DISPATCHER.agency,
      correlation_id: w.incident('blaze'),
      causation_id: meta.commandId,
      request_id: meta.requestId,
      reason: null,
    });
    expect(iso(row!.occurred_at as Date)).toBe(meta.occurredAt);
    expect(iso(row!.recorded_at as Date)).toBe(stored.recordedAt.toISOString());

    // A unit event is filed under the incident it concerns.
    const dispatched = await db.sql`
      select entity, entity_id, incident_id, correlation_id, actor from event_log where type = 'UnitDispatched' and entity_id = ${w.unit('F1')}`;
    expect(dispatched).toEqual([
      { entity: 'unit', entity_id: w.unit('F1'), incident_id: w.incident('blaze'), correlation_id: w.incident('blaze'), actor: DISPATCHER.actor },
    ]);
    const located = await db.sql`select incident_id, data from event_log where type = 'UnitLocationReported' and entity_id = ${w.unit('F1')}`;
    expect(located).toEqual([{ incident_id: null, data: { position: { lat: 27.2, lng: 115.01 }, heading: 90, speedKmh: 42 } }]);
    const released = await db.sql`select incident_id, actor from event_log where type = 'UnitAssignmentReleased'`;
    expect(released).toEqual([{ incident_id: w.incident('hoax'), actor: DISPATCHER.actor }]);
  });

  it('shows a fire that ran its whole course, with the times things happened', async () => {
    const row = await board('blaze');
    expect(row).toMatchObject({
      status: 'closed',
      type: 'fire',
      priority: 1,
      agencies: ['fire', 'ems'],
      units: [],
      all_units: [w.unit('F1'), w.unit('A1')],
      notes_count: 1,
    });
    expect(milestones(row)).toEqual({
      reported_at: w.at('report blaze'),
      triaged_at: w.at('triage blaze'),
      first_dispatched_at: w.at('assign F1 blaze'),
      first_en_route_at: w.at('en_route F1 blaze'),
      first_on_scene_at: w.at('on_scene F1 blaze'),
      resolved_at: w.at('resolve blaze'),
      closed_at: w.at('close blaze'),
      cancelled_at: null,
      updated_at: w.at('close blaze'),
    });
    const [last] = await db.sql<{ seq: string; stream_revision: string }[]>`
      select seq::text, stream_revision::text from event_log where entity_id = ${w.incident('blaze')} order by event_log.seq desc limit 1`;
    expect(row.last_seq).toBe(last!.seq);
    expect(row.revision).toBe(last!.stream_revision);
  });

  it('reopening clears resolution, keeps first milestones, and a reassigned unit works it again', async () => {
    const row = await board('brawl');
    expect(row).toMatchObject({ status: 'on_scene', units: [w.unit('P1')], all_units: [w.unit('P1')] });
    expect(milestones(row)).toEqual({
      reported_at: w.at('report brawl'),
      triaged_at: w.at('triage brawl'),
      first_dispatched_at: w.at('assign P1 brawl'),
      first_en_route_at: w.at('en_route P1 brawl'),
      first_on_scene_at: w.at('on_scene P1 brawl'),
      resolved_at: null,
      closed_at: null,
      cancelled_at: null,
      updated_at: w.at('on_scene P1 brawl'),
    });
  });

  it('shows cancelled, escalated and on-scene incidents', async () => {
    const hoax = await board('hoax');
    expect(hoax).toMatchObject({ status: 'cancelled', units: [], all_units: [], priority: 1 });
    expect(milestones(hoax)).toMatchObject({ cancelled_at: w.at('cancel hoax'), triaged_at: null, first_dispatched_at: null, resolved_at: null });

    const leak = await board('leak');
    expect(leak).toMatchObject({ status: 'reported', priority: 2, agencies: ['fire', 'safety', 'police'], notes_count: 2, address: '12 Yangming Road' });
    expect(iso(leak.triaged_at)).toBeNull();

    const crash = await board('crash');
    expect(crash).toMatchObject({ status: 'on_scene', units: [w.unit('F2')], all_units: [w.unit('F2')] });
    // The unit reported on scene without an en-route report: one milestone, not both.
    expect(milestones(crash)).toMatchObject({ first_dispatched_at: w.at('assign F2 crash'), first_en_route_at: null, first_on_scene_at: w.at('on_scene F2 crash') });
  });

  it('shows units where they are and since when', async () => {
    expect(await unitRow('F2')).toMatchObject({ status: 'on_scene', readiness: 'available', incident_id: w.incident('crash'), call_sign: 'F2', agency: 'fire' });
    expect(iso((await unitRow('F2')).status_since)).toBe(w.at('on_scene F2 crash'));
    expect(await unitRow('P1')).toMatchObject({ status: 'on_scene', incident_id: w.incident('brawl') });
    const f1 = await unitRow('F1');
    expect(f1).toMatchObject({ status: 'idle', readiness: 'available', incident_id: null, lat: 27.2, lng: 115.01 });
    expect(iso(f1.status_since)).toBe(w.at('cleared F1 blaze'));
    // Registered with a position and never reported since: still at its station.
    const f2 = await unitRow('F2');
    expect(f2.lat).toBeCloseTo(27.12, 9);
    expect(f2.lng).toBeCloseTo(114.99, 9);
    const oos = await db.sql`select type from event_log where entity_id = ${w.unit('U1')} and type like '%Service' order by seq`;
    expect(oos.map((r) => r.type)).toEqual(['UnitMarkedOutOfService', 'UnitReturnedToService']);
  });

  it('agrees with every aggregate folded from its stream', async () => {
    const boards = await db.sql<Array<BoardRow & { lat: number; lng: number }>>`select * from incident_board`;
    expect(boards.length).toBe(w.incidentIds.size);
    for (const row of boards) {
      const loaded = await load(store, incidents, row.id);
      const view = incidentView(loaded.state)!;
      expect({
        status: row.status,
        type: row.type,
        priority: row.priority,
        agencies: row.agencies,
        units: row.units,
        all_units: row.all_units,
        notes_count: row.notes_count,
        revision: row.revision,
        location: { lat: row.lat, lng: row.lng },
      }).toEqual({
        status: view.status,
        type: view.type,
        priority: view.priority,
        agencies: view.agencies,
        units: view.units.filter((u) => u.status !== 'cleared').map((u) => u.unitId),
        all_units: view.units.map((u) => u.unitId),
        notes_count: view.noteCount,
        revision: String(loaded.revision),
        location: view.location,
      });
    }
    const unitRows = await db.sql<Array<{ id: string; status: string; readiness: string; incident_id: string | null; lat: number | null; lng: number | null; revision: string }>>`
      select id, status, readiness, incident_id, lat, lng, revision::text from unit_board`;
    expect(unitRows.length).toBe(w.unitIds.size);
    for (const row of unitRows) {
      const loaded = await load(store, units, row.id);
      const view = unitView(loaded.state)!;
      expect(row).toEqual({
        id: view.id,
        status: view.status,
        readiness: view.readiness,
        incident_id: view.incidentId,
        lat: view.position?.lat ?? null,
        lng: view.position?.lng ?? null,
        revision: String(loaded.revision),
      });
    }
  });
});

async function indexes(): Promise<Array<{ name: string; definition: string }>> {
  return db.sql<Array<{ name: string; definition: string }>>`
    select indexname as name, indexdef as definition from pg_indexes
     where schemaname = current_schema() and tablename in ('event_log', 'incident_board', 'unit_board') order by indexname`;
}

describe('rebuilding', () => {
  it('replays the log into tables equal to the live ones, while the live projector steps aside', async () => {
    const live = await dumpReadModels(db.sql);
    expect(live.event_log.length).toBe(log.length);
    const progress: number[] = [];
    // Another batch size than the live one: rows cross batch boundaries at other places and must still agree.
    const result = await rebuildReadModels({ store, sql: db.sql, batchSize: 50, onProgress: (p) => progress.push(p.applied) });
    expect(result).toMatchObject({ events: log.length, incidents: w.incidentIds.size, units: w.unitIds.size, batches: Math.ceil(log.length / 50) });
    expect(progress.at(-1)).toBe(log.length);
    expect(await dumpReadModels(db.sql)).toEqual(live);

    // The live projector carries on from the rebuilt checkpoint.
    await w.report('after-rebuild', 'medical', 2);
    await w.incidentCommand('after-rebuild', { type: 'TriageIncident', data: {} });
    await w.assign('after-rebuild', 'A1');
    await projector.settle(30_000);
    expect(projector.role()).toBe('active');
    const whole = await readWholeLog(store);
    expect((await eventLogOrder(db.sql)).ids).toEqual(whole.map((e) => e.id));
    expect(await board('after-rebuild')).toMatchObject({ status: 'dispatched', units: [w.unit('A1')] });

    const liveAgain = await dumpReadModels(db.sql);
    await rebuildReadModels({ store, sql: db.sql });
    expect(await dumpReadModels(db.sql)).toEqual(liveAgain);
  });

  it('with room in memory for only two board rows, reads the others back and still equals the live tables', async () => {
    await projector.settle(30_000);
    const live = await dumpReadModels(db.sql);
    await rebuildReadModels({ store, sql: db.sql, batchSize: 5, rowMemory: 2 });
    expect(await dumpReadModels(db.sql)).toEqual(live);
  });

  it('loads without the secondary indexes and builds them at the end: the same indexes as before, none left deferred', async () => {
    const before = await indexes();
    expect(before.some((i) => i.name === 'event_log_incident')).toBe(true);
    await rebuildReadModels({ store, sql: db.sql, batchSize: 50 });
    expect(await indexes()).toEqual(before);
    expect(await db.sql`select name from rebuild_deferred_indexes`).toEqual([]);
  });

  it('a rebuild stopped midway leaves its indexes deferred, and the next projector to lead builds them', async () => {
    const before = await indexes();
    await projector.stop();
    const stop = new AbortController();
    await expect(rebuildReadModels({ store, sql: db.sql, batchSize: 5, signal: stop.signal, onProgress: () => stop.abort(new Error('operator stopped it')) })).rejects.toThrow(
      /operator stopped it/,
    );
    // Stopped means stopped: none of its batches is still being written (an open transaction would hold locks on the
    // read models that the next projector's index builds wait on).
    const [{ open }] = (await db.sql`
      select count(*)::int as open from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null`) as unknown as [{ open: number }];
    expect(open).toBe(0);
    const deferred = await db.sql<{ name: string }[]>`select name from rebuild_deferred_indexes order by name`;
    expect(deferred.map((d) => d.name)).toContain('event_log_incident');
    expect((await indexes()).map((i) => i.name)).not.toContain('event_log_incident');
    // So is event_log's unique event_id, and it comes back as the constraint it was; the boards' keys stay.
    expect(deferred.map((d) => d.name)).toContain('event_log_event_id_key');
    expect((await indexes()).map((i) => i.name)).toEqual(expect.arrayContaining(['incident_board_pkey', 'unit_board_pkey', 'event_log_pkey']));

    projector = startProjector({ store, sql: db.sql, batchSize: 7, lockRetryMs: 100, heartbeatMs: 100 });
    await projector.ready;
    await projector.settle(30_000);
    expect(await indexes()).toEqual(before);
    expect(await db.sql`select name from rebuild_deferred_indexes`).toEqual([]);
    expect(await db.sql`select conname from pg_constraint where conrelid = 'event_log'::regclass and contype = 'u'`).toEqual([{ conname: 'event_log_event_id_key' }]);
    // The projector carried on from the stopped rebuild's checkpoint to the whole log.
    expect((await eventLogOrder(db.sql)).ids).toEqual((await readWholeLog(store)).map((e) => e.id));
  });
});
