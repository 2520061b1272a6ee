import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeMessage, HelloMessage, ResetMessage } from '../../api/live/messages.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually, LiveClient } from './liveClient.ts';

// The live feed over a real socket, during real journeys through the HTTP API, on PGlite or (with
// DATABASE_URL) PostgreSQL, where other processes' commits arrive through LISTEN cbd_feed.

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});

afterAll(async () => {
  await s?.close();
});

async function ticket(username: string): Promise<string> {
  const token = await s.login(username);
  const response = await s.call('POST', '/api/live/ticket', { token });
  expect(response.status).toBe(201);
  return response.body.ticket;
}

async function connect(username: string, query: { since?: number; snapshot?: boolean } = {}): Promise<{ client: LiveClient; hello: HelloMessage }> {
  const client = await LiveClient.open(s.baseUrl, { ticket: await ticket(username), ...query });
  await client.until((m) => m.length > 0, 'hello');
  const hello = client.messages[0] as HelloMessage;
  expect(hello.type).toBe('hello');
  return { client, hello };
}

/** The newest event this suite wrote (stream and revision), so head() can wait until it is projected. */
let lastWritten: { stream: string; revision: number } | undefined;

async function command(username: string, path: string, body: unknown = {}): Promise<any> {
  const response = await s.call('POST', path, { token: await s.login(username), body });
  if (response.status >= 300) throw new Error(`${username} POST ${path} → ${response.status} ${JSON.stringify(response.body)}`);
  const { id, revision } = response.body as { id: string; revision: number };
  lastWritten = { stream: `${path.startsWith('/api/units') ? 'unit' : 'incident'}-${id}`, revision };
  return response.body;
}

let callSigns = 0;
async function registerUnit(agency: string, type: string): Promise<string> {
  const body = await command('admin', '/api/units', {
    callSign: `LIVE-${agency.slice(0, 3).toUpperCase()}-${++callSigns}`,
    agency,
    type,
    homeStation: 'Test station',
    position: { lat: 27.11, lng: 114.99 },
  });
  return body.id;
}

async function report(username: string, type: string, extra: Record<string, unknown> = {}): Promise<string> {
  const body = await command(username, '/api/incidents', { type, priority: 3, location: { lat: 27.1, lng: 115.0 }, ...extra });
  return body.id;
}

/**
 * The head of event_log once everything this suite wrote is in it. Commands run one after another, so the
 * last one's event being projected means all earlier ones are.
 */
async function head(): Promise<number> {
  await s.settle();
  const written = lastWritten;
  if (written) {
    await eventually(async () => {
      const rows = await s.sql`select 1 from event_log where stream_id = ${written.stream} and stream_revision = ${written.revision}`;
      return rows.length > 0 ? true : undefined;
    }, `${written.stream}@${written.revision} in event_log`);
  }
  const [row] = await s.sql<{ head: string | null }[]>`select max(seq)::text as head from event_log`;
  return Number(row?.head ?? 0);
}

async function logAfter(position: number): Promise<Array<{ position: number; eventType: string; id: string }>> {
  const rows = await s.sql<{ seq: string; type: string; entity_id: string }[]>`
    select e.seq::text as seq, e.type, e.entity_id from event_log e where e.seq > ${position} order by e.seq`;
  return rows.map((r) => ({ position: Number(r.seq), eventType: r.type, id: r.entity_id }));
}

const summary = (c: ChangeMessage) => ({ position: c.position, eventType: c.eventType, id: c.id });
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe('live feed', () => {
  it('streams every change of a multi-agency journey in log order, positions strictly increasing by 1', async () => {
    const trafficUnit = await registerUnit('traffic', 'traffic_patrol');
    const ambulance = await registerUnit('ems', 'ambulance');
    const before = await head();
    const { client, hello } = await connect('admin');
    expect(hello.position).toBe(before);
    expect(hello.user).toMatchObject({ username: 'admin', role: 'admin' });

    const id = await report('dispatcher.traffic', 'traffic_accident_injuries', { description: 'Two cars, one injured' });
    await command('dispatcher.traffic', `/api/incidents/${id}/triage`, { priority: 2 });
    await command('dispatcher.traffic', `/api/incidents/${id}/assignments`, { unitId: trafficUnit });
    await command('dispatcher.ems', `/api/incidents/${id}/assignments`, { unitId: ambulance });
    for (const status of ['en_route', 'on_scene', 'cleared']) {
      await command('supervisor.traffic', `/api/incidents/${id}/units/${trafficUnit}/status`, { status });
      await command('supervisor.ems', `/api/incidents/${id}/units/${ambulance}/status`, { status });
    }
    await command('dispatcher.traffic', `/api/incidents/${id}/resolve`, { summary: 'Road cleared' });
    await command('dispatcher.traffic', `/api/incidents/${id}/close`);

    const end = await head();
    await client.untilPosition(end);
    const changes = client.changes();
    expect(changes.map((c) => c.position)).toEqual(range(hello.position + 1, end));
    const log = await logAfter(hello.position);
    expect(changes.map(summary)).toEqual(log);

    const types = changes.map((c) => c.eventType);
    expect(types[0]).toBe('IncidentReported');
    expect(types.at(-1)).toBe('IncidentClosed');
    expect(types.filter((t) => t === 'UnitCleared')).toHaveLength(2);

    // Each change carries the current board row in the API's shapes, so a client can patch what it listed.
    const closed = changes.at(-1)!;
    expect(closed).toMatchObject({ entity: 'incident', id, incidentId: id, actor: expect.any(String), occurredAt: expect.any(String) });
    expect(closed.incident).toMatchObject({ id, status: 'closed', agencies: ['traffic', 'ems', 'fire'] });
    const unitChange = changes.find((c) => c.entity === 'unit' && c.id === ambulance)!;
    expect(unitChange.incidentId).toBe(id);
    expect(unitChange.unit).toMatchObject({ id: ambulance, agency: 'ems', type: 'ambulance' });
    const listed = await s.call('GET', `/api/incidents/${id}`, { token: await s.login('admin') });
    expect(closed.incident).toEqual(listed.body);
    await client.close();
  });

  it('sends what the projector in this process hands over exactly as a reader of event_log would send it', async () => {
    const unit = await registerUnit('fire', 'engine');
    const { client: live, hello } = await connect('admin');
    const id = await report('dispatcher.fire', 'fire', { description: 'Smoke from a shop' });
    await command('dispatcher.fire', `/api/incidents/${id}/triage`, { priority: 1 });
    await command('dispatcher.fire', `/api/incidents/${id}/assignments`, { unitId: unit });
    for (const status of ['en_route', 'on_scene']) await command('supervisor.fire', `/api/incidents/${id}/units/${unit}/status`, { status });
    await command('dispatcher.fire', `/api/incidents/${id}/notes`, { text: 'Extinguished' });
    const end = await head();
    await live.untilPosition(end);
    // The same changes read back from event_log and the boards by a client catching up from the same position.
    const { client: reader } = await connect('admin', { since: hello.position });
    await reader.untilPosition(end);
    const handed = live.changes().filter((c) => c.position <= end);
    const read = reader.changes().filter((c) => c.position <= end);
    const withoutBoards = (c: (typeof handed)[number]) => ({ ...c, incident: undefined, unit: undefined });
    expect(handed.map(withoutBoards)).toEqual(read.map(withoutBoards));
    // A reader sees each board row as it is now; the live client got it as each batch left it, so their last
    // changes of each record must agree.
    for (const key of ['incident', 'unit'] as const) {
      const lastOf = (changes: typeof handed) => changes.filter((c) => c[key] !== undefined).at(-1)?.[key];
      expect(lastOf(handed)).toBeDefined();
      expect(lastOf(handed)).toEqual(lastOf(read));
    }
    await live.close();
    await reader.close();
  });

  it('replays exactly the missed changes to a client reconnecting with since, then continues live', async () => {
    const { client: first } = await connect('auditor');
    const id = await report('dispatcher.police', 'public_order');
    const seen = await head();
    await first.untilPosition(seen);
    const last = first.lastPosition()!;
    expect(last).toBe(seen);
    await first.close();

    await command('dispatcher.police', `/api/incidents/${id}/triage`, {});
    for (const text of ['Crowd of about 30', 'Calm now', 'Leaving']) await command('dispatcher.police', `/api/incidents/${id}/notes`, { text });
    const missedUpTo = await head();
    const missed = await logAfter(last);
    expect(missed).toHaveLength(4);

    const { client: second, hello } = await connect('auditor', { since: last });
    expect(hello.position).toBe(last);
    await second.untilPosition(missedUpTo);
    expect(second.changes().map(summary)).toEqual(missed);

    await command('dispatcher.police', `/api/incidents/${id}/notes`, { text: 'Dispersed' });
    const end = await head();
    await second.untilPosition(end);
    expect(second.changes().map((c) => c.position)).toEqual(range(last + 1, end));
    expect(second.messages.filter((m) => m.type === 'reset')).toHaveLength(0);
    await second.close();
  });

  it('sends a reset snapshot to a client too far behind, then live changes after it', async () => {
    s.app.liveHub.tune({ resetAfter: 3 });
    try {
      await report('dispatcher.urban', 'urban_management');
      const at = await head();
      expect(at).toBeGreaterThan(3);
      const { client } = await connect('admin', { since: 0 });
      await client.until((m) => m.some((x) => x.type === 'reset'), 'reset');
      const reset = client.messages.find((m): m is ResetMessage => m.type === 'reset')!;
      expect(reset.position).toBe(at);
      expect(reset.reason).toBe('too_far_behind');
      const [open] = await s.sql<{ n: number }[]>`select count(*)::int as n from incident_board where status not in ('closed', 'cancelled')`;
      const [units] = await s.sql<{ n: number }[]>`select count(*)::int as n from unit_board`;
      expect(reset.incidents).toHaveLength(open!.n);
      expect(reset.units).toHaveLength(units!.n);
      expect(reset.incidents.every((i) => !['closed', 'cancelled'].includes((i as { status: string }).status))).toBe(true);

      // A position from another database (or from before a wipe) cannot be continued either.
      const { client: stranger } = await connect('admin', { since: at + 1000 });
      await stranger.until((m) => m.some((x) => x.type === 'reset'), 'reset');
      expect(stranger.messages.find((m): m is ResetMessage => m.type === 'reset')).toMatchObject({ position: at, reason: 'ahead_of_log' });

      const id = await report('dispatcher.urban', 'illegal_construction');
      await Promise.all([client.untilPosition(at + 1), stranger.untilPosition(at + 1)]);
      for (const c of [client, stranger]) {
        expect(c.changes().map((x) => x.position)).toEqual([at + 1]);
        expect(c.changes()[0]).toMatchObject({ id, eventType: 'IncidentReported' });
      }
      await Promise.all([client.close(), stranger.close()]);
    } finally {
      s.app.liveHub.tune({ resetAfter: 5000 });
    }
  });

  it('shows dispatchers only the incidents of their agency, and every unit', async () => {
    const { client: urban } = await connect('dispatcher.urban');
    const { client: traffic } = await connect('dispatcher.traffic');

    const jam = await report('dispatcher.traffic', 'traffic_congestion');
    await command('dispatcher.traffic', `/api/incidents/${jam}/triage`, { priority: 3 });
    const stall = await report('dispatcher.urban', 'urban_management');
    const unit = await registerUnit('fire', 'engine');
    const end = await head();

    await traffic.untilPosition(end);
    await urban.untilPosition(end);
    const urbanIncidents = urban.changes().filter((c) => c.entity === 'incident');
    expect(urbanIncidents.map((c) => c.id)).toEqual([stall]);
    expect(urban.changes().some((c) => c.id === jam || c.incidentId === jam)).toBe(false);
    expect(traffic.changes().filter((c) => c.id === jam).map((c) => c.eventType)).toEqual(['IncidentReported', 'IncidentTriaged']);
    expect(traffic.changes().some((c) => c.id === stall)).toBe(false);
    for (const client of [urban, traffic]) expect(client.changes().filter((c) => c.entity === 'unit').map((c) => c.id)).toEqual([unit]);

    // A reset is scoped the same way.
    const { client: snapshot } = await connect('dispatcher.urban', { snapshot: true });
    await snapshot.until((m) => m.some((x) => x.type === 'reset'), 'reset');
    const reset = snapshot.messages.find((m): m is ResetMessage => m.type === 'reset')!;
    expect(reset.reason).toBe('requested');
    const agencies = reset.incidents.map((i) => (i as { agencies: string[] }).agencies);
    expect(agencies.length).toBeGreaterThan(0);
    expect(agencies.every((a) => a.includes('urban'))).toBe(true);
    expect(reset.units.length).toBeGreaterThan(0);
    await Promise.all([urban.close(), traffic.close(), snapshot.close()]);
  });
});
