// Acceptance 3: a likely duplicate is flagged within the distance and time window and not outside it; merge then
// split restores both incidents as they were, and both moves are events in their histories.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DUPLICATE_RULES, DUPLICATES_SHOWN, findDuplicates, type DuplicateCandidate } from '../../domain/index.ts';
import { command, expectProblem, expectStatus } from '../api/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { boardsCaughtUp, caughtUp } from './support.ts';

const PLACE = { lat: 27.12, lng: 114.99 };
const KM_PER_DEGREE = 111.19508;
const northM = (m: number) => ({ lat: PLACE.lat + m / 1000 / KM_PER_DEGREE, lng: PLACE.lng });
const T0 = '2026-03-02T09:00:00.000Z';
const plusMinutes = (min: number) => new Date(Date.parse(T0) + min * 60_000).toISOString();

describe('findDuplicates (pure)', () => {
  const candidate = (id: string, m: number, minutes: number, type = 'traffic_accident', open = true): DuplicateCandidate => ({
    id,
    type,
    location: northM(m),
    reportedAt: plusMinutes(minutes),
    open,
  });
  const subject = { id: 'new', type: 'traffic_accident_injuries', location: PLACE, reportedAt: plusMinutes(20) };

  it('flags open incidents of a compatible type within the distance and the window, nearest first', () => {
    const found = findDuplicates(subject, [
      candidate('far-in-time', 100, -11), // 31 minutes earlier: outside the 30-minute window
      candidate('edge-of-window', 250, -10), // exactly 30 minutes: inside
      candidate('near', 80, 15),
      candidate('too-far', 350, 19),
      candidate('other-kind', 10, 19, 'public_order'),
      candidate('closed', 10, 19, 'traffic_accident', false),
      { ...candidate('new', 0, 20) },
    ]);
    expect(found).toEqual([
      { id: 'near', distanceM: 80, minutesApart: 5 },
      { id: 'edge-of-window', distanceM: 250, minutesApart: 30 },
    ]);
  });

  it('uses the configured distance and window', () => {
    const rules = { ...DEFAULT_DUPLICATE_RULES, distanceM: 400, windowMinutes: 60 };
    const found = findDuplicates(subject, [candidate('far-in-time', 100, -11), candidate('too-far', 350, 19)], rules);
    expect(found.map((d) => d.id)).toEqual(['far-in-time', 'too-far']);
  });
});

describe(`duplicates, merge and split over the API (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const stable = (incident: Record<string, unknown>) => {
    const { revision: _r, updatedAt: _u, lastSeq: _l, ...rest } = incident;
    return rest;
  };
  const get = (id: string) => caughtUp(server, id);
  const history = async (id: string) => (await caughtUp(server, id), await server.call('GET', `/api/incidents/${id}/history`, { token: await server.login('auditor') })).body as any[];

  it('flags a report near an open incident of a compatible type, and not one farther away', async () => {
    const firstSent = Date.now();
    const primary = await command(server, 'dispatcher.traffic', '/api/incidents', { type: 'traffic_accident', priority: 3, location: PLACE, description: 'Two cars collided' }, 201);
    expect(primary.body.duplicates).toBeUndefined();
    await boardsCaughtUp(server, primary.body.id);

    const second = await command(server, 'dispatcher.traffic', '/api/incidents', { type: 'traffic_accident_injuries', priority: 2, location: northM(120), description: 'Crash, someone hurt' }, 201);
    const elapsedMs = Date.now() - firstSent;
    expect(second.body.duplicates).toEqual([{ id: primary.body.id, label: expect.stringMatching(/^INC-/), distanceM: 120, minutesApart: expect.any(Number) }]);
    // No farther apart than the two requests took, in tenths of a minute.
    expect(second.body.duplicates[0].minutesApart).toBeGreaterThanOrEqual(0);
    expect(second.body.duplicates[0].minutesApart).toBeLessThanOrEqual(Math.ceil(elapsedMs / 6000) / 10);

    const elsewhere = await command(server, 'dispatcher.traffic', '/api/incidents', { type: 'traffic_accident', priority: 3, location: northM(900) }, 201);
    expect(elsewhere.body.duplicates).toBeUndefined();

    await boardsCaughtUp(server, primary.body.id, second.body.id, elsewhere.body.id);
    const later = await server.call('GET', `/api/incidents/${second.body.id}/duplicates`, { token: await server.login('dispatcher.traffic') });
    expectStatus(later, 200);
    expect(later.body).toEqual(second.body.duplicates);
  });

  it('lists only the nearest few of a storm of reports about one event', async () => {
    const spot = northM(20_000);
    const storm: string[] = [];
    for (let i = 0; i < 14; i++) {
      // Reports 40 m apart going north, then the same places again.
      const at = northM(20_000 + 40 * (i % 7));
      storm.push((await command(server, 'dispatcher.police', '/api/incidents', { type: 'public_order', priority: 3, location: at }, 201)).body.id as string);
    }
    // Another kind of event on the very spot is not a duplicate of a public-order report.
    await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 3, location: spot }, 201);
    await boardsCaughtUp(server, ...storm);
    const report = await command(server, 'dispatcher.police', '/api/incidents', { type: 'crime_in_progress', priority: 2, location: spot }, 201);
    const found = report.body.duplicates as Array<{ id: string; distanceM: number }>;
    expect(found).toHaveLength(DUPLICATES_SHOWN);
    // Two at each distance 0, 40, 80, 120 and 160 m; the 200 and 240 m ones are left out.
    expect(found.map((d) => d.distanceM)).toEqual([0, 0, 40, 40, 80, 80, 120, 120, 160, 160]);
    expect(new Set(found.map((d) => d.id))).toEqual(new Set([0, 1, 2, 3, 4, 7, 8, 9, 10, 11].map((i) => storm[i])));
  });

  it('reports at coordinates next to zero are recorded and compared like any other', async () => {
    // Found by the random bodies of badInput.test.ts: a sum of squares of such differences underflowed in PostgreSQL.
    const tiny = { lat: -7e-323, lng: 6.8e-191 };
    const first = await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 2, location: tiny }, 201);
    await boardsCaughtUp(server, first.body.id);
    const second = await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 2, location: { lat: 5e-324, lng: 0 } }, 201);
    expect(second.body.duplicates).toEqual([expect.objectContaining({ id: first.body.id, distanceM: 0 })]);
  });

  it('merges a duplicate into the primary and splits it off again, restoring both', async () => {
    const a = (await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 2, location: northM(5000), description: 'Smoke from a shop' }, 201)).body.id as string;
    await command(server, 'dispatcher.fire', `/api/incidents/${a}/notes`, { text: 'Caller 1: shop on the corner' });
    await command(server, 'dispatcher.fire', `/api/incidents/${a}/triage`, {});
    await boardsCaughtUp(server, a);
    const reportB = await command(server, 'dispatcher.fire', '/api/incidents', {
      type: 'fire',
      priority: 2,
      location: northM(5050),
      description: 'Flames in a noodle shop',
      reporter: { name: '李女士' },
    }, 201);
    const b = reportB.body.id as string;
    expect(reportB.body.duplicates.map((d: any) => d.id)).toEqual([a]);
    await command(server, 'dispatcher.fire', `/api/incidents/${b}/notes`, { text: 'Caller 2: people inside' });
    await command(server, 'dispatcher.fire', `/api/incidents/${b}/triage`, { priority: 1 });

    const beforeA = stable(await get(a));
    const beforeB = stable(await get(b));

    await command(server, 'dispatcher.fire', `/api/incidents/${b}/merge`, { into: a });
    const mergedA = await get(a);
    const mergedB = await get(b);
    expect(mergedB).toMatchObject({ status: 'closed', mergedInto: a });
    expect(mergedB.closedAt).not.toBeNull();
    expect(mergedA.mergedFrom).toEqual([b]);
    expect(mergedA.mergedReports).toEqual([expect.objectContaining({ incidentId: b, description: 'Flames in a noodle shop', priority: 2, type: 'fire', reportedAt: mergedB.reportedAt })]);
    expect(mergedA.mergedReports[0].reporter).toBeUndefined(); // personal data stays on the duplicate's stream
    expect(mergedA.mergedNotes).toEqual(['Caller 2: people inside']);
    // A merged duplicate is closed: it takes nothing but a split.
    expectProblem(await server.call('POST', `/api/incidents/${b}/notes`, { token: await server.login('dispatcher.fire'), body: { text: 'x' } }), 409);
    expectProblem(await server.call('POST', `/api/incidents/${b}/reopen`, { token: await server.login('dispatcher.fire'), body: { reason: 'x' } }), 409);
    expectProblem(await server.call('POST', `/api/incidents/${a}/merge`, { token: await server.login('dispatcher.fire'), body: { into: b } }), 409);

    await command(server, 'dispatcher.fire', `/api/incidents/${a}/split`, { duplicateId: b });
    expect(stable(await get(a))).toEqual(beforeA);
    expect(stable(await get(b))).toEqual(beforeB);

    const tail = (events: any[]) => events.slice(-2).map((e) => [e.type, e.data]);
    expect(tail(await history(b))).toEqual([
      ['IncidentMergedInto', { primaryId: a }],
      ['IncidentSplitFromPrimary', { primaryId: a }],
    ]);
    expect(tail(await history(a))).toEqual([
      ['DuplicateIncidentMerged', expect.objectContaining({ duplicateId: b, notes: ['Caller 2: people inside'] })],
      ['MergedIncidentSplitOff', { duplicateId: b }],
    ]);

    // And again the other way round, split from the duplicate's side.
    await command(server, 'dispatcher.fire', `/api/incidents/${b}/merge`, { into: a });
    await command(server, 'dispatcher.fire', `/api/incidents/${b}/split`, {});
    expect(stable(await get(b))).toEqual(beforeB);
    expect(stable(await get(a))).toEqual(beforeA);
  });

  it('refuses to merge an incident whose units are still working, and writes nothing', async () => {
    const admin = await server.login('admin');
    const unit = (await server.call('POST', '/api/units', { token: admin, body: { callSign: 'E-77', agency: 'fire', type: 'engine', homeStation: 'Fire 7', position: PLACE } })).body.id;
    const a = (await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 3, location: northM(9000) }, 201)).body.id as string;
    const b = (await command(server, 'dispatcher.fire', '/api/incidents', { type: 'fire', priority: 3, location: northM(9010) }, 201)).body.id as string;
    await command(server, 'dispatcher.fire', `/api/incidents/${b}/triage`, {});
    await command(server, 'dispatcher.fire', `/api/incidents/${b}/assignments`, { unitId: unit });
    const before = (await history(a)).length;
    const refused = await server.call('POST', `/api/incidents/${b}/merge`, { token: await server.login('dispatcher.fire'), body: { into: a } });
    expectProblem(refused, 409);
    expect(refused.body.detail).toMatch(/clear units E-77 first/);
    expect((await history(a)).length).toBe(before);
    expect((await get(b)).status).toBe('dispatched');
    // Another agency's dispatcher cannot merge incidents that are not theirs.
    expectProblem(await server.call('POST', `/api/incidents/${a}/merge`, { token: await server.login('dispatcher.police'), body: { into: b } }), 403);
  });
});
