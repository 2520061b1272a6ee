// The command side folds a stream once and then reads only what came after; these tests hold that to the
// stream itself: other processes' writes are seen, retries are still recognised, and memory stays bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCommand, load, loadWithEvents } from '../../api/commands/commandHandler.ts';
import { incidents, units } from '../../api/commands/aggregates.ts';
import { StateCache } from '../../api/commands/stateCache.ts';
import { unitView, unitStream } from '../../domain/index.ts';
import { newId } from '../../eventstore/eventIds.ts';
import { migrate } from '../../eventstore/migrate.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';
import { meta } from './fixtures.ts';

let db: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await openTestDatabase();
  await migrate(db.sql);
  store = new PostgresEventStore(db.sql);
});
afterAll(async () => {
  await store?.close();
  await db?.close();
});

/** The real store, recording where each stream read started. */
function recording(inner: EventStore): { store: EventStore; reads: Array<{ streamId: string; from: bigint }> } {
  const reads: Array<{ streamId: string; from: bigint }> = [];
  const wrapped: EventStore = Object.create(inner);
  wrapped.readStream = (streamId, options) => {
    reads.push({ streamId, from: options?.fromRevision ?? 0n });
    return inner.readStream(streamId, options);
  };
  return { store: wrapped, reads };
}

async function registered(on: EventStore, callSign: string): Promise<string> {
  const unitId = newId();
  await handleCommand(on, units, unitId, { type: 'RegisterUnit', data: { unitId, agency: 'ems', callSign, unitType: 'ambulance', homeStation: 'S1' } }, meta('admin', 'admin', 'ems'));
  return unitId;
}

type Readiness = { type: 'MarkOutOfService'; data: { reason: string } } | { type: 'ReturnToService'; data: Record<string, never> };
const status = (to: 'out_of_service' | 'available'): Readiness =>
  to === 'out_of_service' ? { type: 'MarkOutOfService', data: { reason: 'maintenance' } } : { type: 'ReturnToService', data: {} };

describe(`the command side's folded streams (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('decides on the remembered fold without reading, and folds to the same state as the whole stream', async () => {
    const { store: watched, reads } = recording(store);
    const unitId = await registered(watched, 'A-CACHE-1');
    for (let i = 0; i < 6; i++) await handleCommand(watched, units, unitId, status(i % 2 === 0 ? 'out_of_service' : 'available'), meta('s', 'supervisor', 'ems'));
    const mine = reads.filter((r) => r.streamId === unitStream(unitId));
    // The register found no stream; every later command decided on what the process remembered and let its
    // append at that revision be the check: no read at all.
    expect(mine.map((r) => r.from)).toEqual([0n]);
    const cached = await load(watched, units, unitId);
    const whole = await loadWithEvents(store, units, unitId);
    expect(cached.revision).toBe(6n);
    expect(unitView(cached.state)).toEqual(unitView(whole.state));
  });

  it("sees what another process wrote since, and decides on it (no stale state, no lost update)", async () => {
    const unitId = await registered(store, 'A-CACHE-2');
    await load(store, units, unitId);
    // Another API process: its own pool, its own store, so its own memory.
    const other = new PostgresEventStore(db.sql);
    await handleCommand(other, units, unitId, status('out_of_service'), meta('s2', 'supervisor', 'ems'));
    const seen = await load(store, units, unitId);
    expect(seen.revision).toBe(1n);
    expect(unitView(seen.state)!.readiness).toBe('out_of_service');
    // Deciding on the stale fold would mark it out of service a second time; the fresh fold refuses that.
    await expect(handleCommand(store, units, unitId, status('out_of_service'), meta('s', 'supervisor', 'ems'))).rejects.toThrow();
    await other.close();
  });

  it('a refusal decided on a stale memory is checked against the store before it is believed', async () => {
    const { store: watched, reads } = recording(store);
    const unitId = await registered(watched, 'A-CACHE-5');
    const other = new PostgresEventStore(db.sql);
    await handleCommand(other, units, unitId, status('out_of_service'), meta('s2', 'supervisor', 'ems'));
    reads.length = 0;
    // This process still remembers the unit in service, where returning it to service is refused; the store says
    // it is out of service, where it is allowed.
    const returned = await handleCommand(watched, units, unitId, status('available'), meta('s', 'supervisor', 'ems'));
    expect(returned).toMatchObject({ written: true, revision: 2n });
    expect(reads).toHaveLength(1);
    await other.close();
  });

  it('a change decided on a stale memory conflicts at the append and is decided again on the stream as it is', async () => {
    const unitId = await registered(store, 'A-CACHE-6');
    const other = new PostgresEventStore(db.sql);
    await handleCommand(other, units, unitId, status('out_of_service'), meta('s2', 'supervisor', 'ems'));
    // Remembered in service, so marking it out of service looks allowed; the append at revision 0 conflicts and
    // the fresh fold refuses it: it is already out of service.
    await expect(handleCommand(store, units, unitId, status('out_of_service'), meta('s', 'supervisor', 'ems'))).rejects.toThrow(/out of service/i);
    expect((await loadWithEvents(store, units, unitId)).events).toHaveLength(2);
    await other.close();
  });

  it('recognises a retried command from the command ids it has folded, without refolding the stream', async () => {
    const { store: watched, reads } = recording(store);
    const unitId = await registered(watched, 'A-CACHE-3');
    const retried = meta('s', 'supervisor', 'ems');
    const first = await handleCommand(watched, units, unitId, status('out_of_service'), retried);
    await handleCommand(watched, units, unitId, status('available'), meta('s', 'supervisor', 'ems'));
    reads.length = 0;
    const again = await handleCommand(watched, units, unitId, status('out_of_service'), retried);
    expect(again).toMatchObject({ written: false, revision: first.revision, events: [] });
    expect(reads.every((r) => r.from > 0n)).toBe(true);
    expect((await loadWithEvents(store, units, unitId)).events).toHaveLength(3);
  });

  it('a fold at an older revision does not claim commands written after it', async () => {
    const unitId = await registered(store, 'A-CACHE-4');
    const older = await load(store, units, unitId);
    const later = meta('s', 'supervisor', 'ems');
    await handleCommand(store, units, unitId, status('out_of_service'), later);
    const newer = await load(store, units, unitId);
    expect(newer.revisionOf(later.commandId)).toBe(1n);
    expect(older.revisionOf(later.commandId)).toBeUndefined();
  });

  it('recovers when the store lost what it remembered (a conflict drops the memory and refolds)', async () => {
    const incidentId = newId();
    const report = { type: 'ReportIncident' as const, data: { incidentId, type: 'fire' as const, priority: 3 as const, location: { lat: 27.1, lng: 114.9 } } };
    await handleCommand(store, incidents, incidentId, report, meta());
    await handleCommand(store, incidents, incidentId, { type: 'TriageIncident', data: {} }, meta());
    // The stream's rows removed under the running process, as a test reset or a restore from backup would.
    await db.sql`delete from events where stream_id = ${incidents.stream(incidentId)}`;
    await db.sql`delete from streams where stream_id = ${incidents.stream(incidentId)}`;
    const again = await handleCommand(store, incidents, incidentId, report, meta());
    expect(again).toMatchObject({ written: true, revision: 0n });
  });
});

describe('StateCache', () => {
  const entry = (revision: bigint, commands: number) => ({ state: { revision }, revision, lastEventId: `e${revision}`, commands: new Map(Array.from({ length: commands }, (_, i) => [`c${i}`, BigInt(i)])) });

  it('drops the least recently used streams once their events pass the budget', () => {
    const cache = new StateCache(30);
    cache.set('a', entry(9n, 10));
    cache.set('b', entry(9n, 10));
    cache.get('a');
    cache.set('c', entry(9n, 10));
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
    // A stream bigger than the whole budget is not kept at all (and does not empty the cache).
    cache.set('huge', entry(99n, 100));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('never replaces a fold with an older one', () => {
    const cache = new StateCache();
    cache.set('a', entry(5n, 1));
    cache.set('a', entry(3n, 1));
    expect(cache.get('a')!.revision).toBe(5n);
    cache.set('a', entry(6n, 1));
    expect(cache.get('a')!.revision).toBe(6n);
  });
});
