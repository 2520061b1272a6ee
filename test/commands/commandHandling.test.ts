import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../domain/errors.ts';
import { incidentView, unitView } from '../../domain/index.ts';
import { newId } from '../../eventstore/eventIds.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import { migrate } from '../../eventstore/migrate.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { handleCommand, load, loadWithEvents } from '../../api/commands/commandHandler.ts';
import { assignUnit, changeUnitStatus } from '../../api/commands/assignUnit.ts';
import { incidents, units } from '../../api/commands/aggregates.ts';
import { StaleRevisionError } from '../../api/commands/errors.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';
import { meta } from './fixtures.ts';

let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await openTestDatabase();
  await migrate(db.sql);
  store = new PostgresEventStore(db.sql);
});
afterAll(async () => {
  await store?.close();
  await db?.close();
});

async function registerUnit(callSign: string, agency: 'fire' | 'ems' = 'fire') {
  const unitId = newId();
  await handleCommand(
    store,
    units,
    unitId,
    {
      type: 'RegisterUnit',
      data: { unitId, agency, callSign, unitType: agency === 'fire' ? 'engine' : 'ambulance', homeStation: 'Station 1', position: { lat: 27.11, lng: 114.99 } },
    },
    meta('admin', 'admin', agency),
  );
  return unitId;
}

async function reportTriaged(): Promise<string> {
  const incidentId = newId();
  await handleCommand(
    store,
    incidents,
    incidentId,
    { type: 'ReportIncident', data: { incidentId, type: 'fire', priority: 2, location: { lat: 27.1, lng: 114.98 }, address: '吉州区 阳明路 1号' } },
    meta(),
  );
  await handleCommand(store, incidents, incidentId, { type: 'TriageIncident', data: {} }, meta());
  return incidentId;
}

describe(`command handling (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('50 concurrent assignments of one unit to 50 different incidents: exactly one wins, 49 clear conflicts', async () => {
    const unitId = await registerUnit('E-RACE');
    const incidentIds: string[] = [];
    for (let i = 0; i < 50; i++) incidentIds.push(await reportTriaged());

    const outcomes = await Promise.allSettled(incidentIds.map((incidentId) => assignUnit(store, { incidentId, unitId }, meta())));

    const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [incidentIds[i]!] : []));
    const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    for (const loser of losers) {
      expect(loser.reason).toBeInstanceOf(DomainError);
      // A dispatcher must be told who has the unit, not shown a stack trace.
      expect((loser.reason as DomainError).message).toMatch(/E-RACE/);
      expect((loser.reason as DomainError).message).toMatch(/already/i);
    }

    const unit = await loadWithEvents(store, units, unitId);
    expect(unitView(unit.state)!.incidentId).toBe(winners[0]);
    const dispatched = unit.events.filter((e) => e.type === 'UnitDispatched');
    const released = unit.events.filter((e) => e.type === 'UnitAssignmentReleased');
    expect(dispatched.length - released.length).toBe(1);

    // Only the winner's incident records the unit; the 49 others never saw it.
    for (const incidentId of incidentIds) {
      const incident = incidentView((await load(store, incidents, incidentId)).state)!;
      expect(incident.units.map((u) => u.unitId).includes(unitId)).toBe(incidentId === winners[0]);
    }
  });

  it('a retried command with the same command id appends nothing new', async () => {
    const incidentId = await reportTriaged();
    const note = meta();
    const first = await handleCommand(store, incidents, incidentId, { type: 'AddNote', data: { text: 'Caller reports smoke on 3rd floor' } }, note);
    const before = await store.readStream(incidents.stream(incidentId));
    const again = await handleCommand(store, incidents, incidentId, { type: 'AddNote', data: { text: 'Caller reports smoke on 3rd floor' } }, note);
    const after = await store.readStream(incidents.stream(incidentId));
    expect(first.written).toBe(true);
    expect(again.written).toBe(false);
    expect(again.revision).toBe(first.revision);
    expect(after.map((e) => e.id)).toEqual(before.map((e) => e.id));
  });

  it('a retried assignment writes nothing new on either stream', async () => {
    const unitId = await registerUnit('E-RETRY');
    const incidentId = await reportTriaged();
    const m = meta();
    await assignUnit(store, { incidentId, unitId }, m);
    const unitBefore = await store.readStream(units.stream(unitId));
    const incidentBefore = await store.readStream(incidents.stream(incidentId));
    const retry = await assignUnit(store, { incidentId, unitId }, m);
    expect(retry.written).toBe(false);
    expect((await store.readStream(units.stream(unitId))).length).toBe(unitBefore.length);
    expect((await store.readStream(incidents.stream(incidentId))).length).toBe(incidentBefore.length);
  });

  it('an assignment the incident refuses is compensated: the unit is released and the audit trail shows both steps', async () => {
    const unitId = await registerUnit('A-COMP', 'ems');
    const incidentId = newId();
    // A work-safety case needs no EMS: the incident refuses the ambulance after it was reserved.
    await handleCommand(
      store,
      incidents,
      incidentId,
      { type: 'ReportIncident', data: { incidentId, type: 'work_safety_violation', priority: 4, location: { lat: 27.12, lng: 115.0 } } },
      meta('d', 'dispatcher', 'safety'),
    );
    await handleCommand(store, incidents, incidentId, { type: 'TriageIncident', data: {} }, meta('d', 'dispatcher', 'safety'));
    await expect(assignUnit(store, { incidentId, unitId }, meta())).rejects.toBeInstanceOf(DomainError);
    const unit = await loadWithEvents(store, units, unitId);
    expect(unitView(unit.state)!.status).toBe('idle');
    // The pre-check refuses before reserving, so nothing was written at all.
    expect(unit.events.map((e) => e.type)).toEqual(['UnitRegistered']);
  });

  it('when the incident changes between the reservation and the record, the unit is released by a compensating event', async () => {
    const unitId = await registerUnit('E-COMP2');
    const incidentId = await reportTriaged();
    // The real store, with one interception: right after the unit is reserved, another dispatcher cancels the incident.
    const racing: EventStore = Object.create(store);
    racing.append = async (streamId, events, expected) => {
      const result = await store.append(streamId, events, expected);
      if (events.some((e) => e.type === 'UnitDispatched')) {
        await handleCommand(store, incidents, incidentId, { type: 'CancelIncident', data: { reason: 'false alarm' } }, meta('d2'));
      }
      return result;
    };
    await expect(assignUnit(racing, { incidentId, unitId }, meta())).rejects.toBeInstanceOf(DomainError);
    const unit = await loadWithEvents(store, units, unitId);
    expect(unitView(unit.state)!.status).toBe('idle');
    expect(unitView(unit.state)!.incidentId ?? null).toBeNull();
    expect(unit.events.map((e) => e.type)).toEqual(['UnitRegistered', 'UnitDispatched', 'UnitAssignmentReleased']);
    const release = unit.events.at(-1)!;
    expect(release.metadata.$causationId).toBe(unit.events[1]!.metadata.commandId);
    expect(incidentView((await load(store, incidents, incidentId)).state)!.units).toEqual([]);
  });

  it('a connection lost while recording the assignment releases nothing; the retry completes the assignment', async () => {
    const unitId = await registerUnit('E-LOST');
    const incidentId = await reportTriaged();
    // The record reaches the store and commits, but its answer is lost with the connection.
    const flaky: EventStore = Object.create(store);
    flaky.append = async (streamId, events, expected) => {
      const result = await store.append(streamId, events, expected);
      if (events.some((e) => e.type === 'UnitAssignedToIncident')) throw Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
      return result;
    };
    const attempt = meta();
    await expect(assignUnit(flaky, { incidentId, unitId }, attempt)).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    const unit = await loadWithEvents(store, units, unitId);
    expect(unit.events.map((e) => e.type)).toEqual(['UnitRegistered', 'UnitDispatched']);
    // The client retries with the same command id: both halves stand, once each.
    await assignUnit(store, { incidentId, unitId }, attempt);
    expect(unitView((await load(store, units, unitId)).state)!.incidentId).toBe(incidentId);
    expect(incidentView((await load(store, incidents, incidentId)).state)!.units.map((u) => u.unitId)).toEqual([unitId]);
    expect((await loadWithEvents(store, units, unitId)).events.map((e) => e.type)).toEqual(['UnitRegistered', 'UnitDispatched']);
  });

  it('stale If-Match is refused and writes nothing', async () => {
    const incidentId = await reportTriaged();
    const current = await load(store, incidents, incidentId);
    await expect(
      handleCommand(store, incidents, incidentId, { type: 'AddNote', data: { text: 'x' } }, meta(), { ifMatch: current.revision - 1n }),
    ).rejects.toBeInstanceOf(StaleRevisionError);
    expect((await load(store, incidents, incidentId)).revision).toBe(current.revision);
  });

  it('unit status changes reach both streams and move the incident on scene', async () => {
    const unitId = await registerUnit('E-STATUS');
    const incidentId = await reportTriaged();
    await assignUnit(store, { incidentId, unitId }, meta());
    await changeUnitStatus(store, { incidentId, unitId, status: 'en_route' }, meta('s', 'supervisor', 'fire'));
    await changeUnitStatus(store, { incidentId, unitId, status: 'on_scene' }, meta('s', 'supervisor', 'fire'));
    expect(incidentView((await load(store, incidents, incidentId)).state)!.status).toBe('on_scene');
    expect(unitView((await load(store, units, unitId)).state)!.status).toBe('on_scene');
  });
});
