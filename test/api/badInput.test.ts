import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENCIES, ASSIGNED_UNIT_STATUSES, INCIDENT_SOURCES, INCIDENT_TYPE_IDS, UNIT_TYPES } from '../../domain/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { allEvents, command, JIAN, registerUnit, reportIncident } from './fixtures.ts';

// Random bodies thrown at every command route: nothing may answer 5xx, and the log may only grow by the
// events of the commands that answered 2xx (each response names its command id).

const RUNS = Number(process.env.BAD_INPUT_RUNS ?? 1000);

let server: TestServer;
let token: string;
let before: Set<string>;
const accepted = new Set<string>();
const statuses = new Map<number, number>();

beforeAll(async () => {
  server = await startTestServer();
  token = await server.login('admin');
});
afterAll(async () => {
  await server?.close();
});

type Body = Record<string, unknown>;

const text = (max: number) => fc.string({ minLength: 1, maxLength: max });
const lat = fc.double({ min: -90, max: 90, noNaN: true });
const lng = fc.double({ min: -180, max: 180, noNaN: true });
const priority = fc.integer({ min: 1, max: 5 });
const agencies = fc.subarray([...AGENCIES], { minLength: 1 });

/** Values a schema should refuse for most fields. */
const hostile = fc.oneof(
  fc.anything(),
  fc.constantFrom(0, -1, 6, 0.5, 1e308, -1e308, 91, -181, 361, 1e6, '', ' ', 'NaN', null, true, [], {}),
  fc.integer({ min: 1000, max: 100_000 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);

/** A valid body with one thing wrong: a field of the wrong type or out of range, a field too many or too few. */
function mutated(valid: fc.Arbitrary<Body>): fc.Arbitrary<unknown> {
  return valid.chain((body) => {
    const keys = Object.keys(body);
    const key = keys.length > 0 ? fc.constantFrom(...keys) : fc.constant('priority');
    return fc.oneof(
      fc.tuple(key, hostile).map(([k, v]) => ({ ...body, [k]: v })),
      fc.tuple(fc.string({ maxLength: 12 }), fc.anything()).map(([k, v]) => ({ ...body, [k]: v })),
      key.map((k) => Object.fromEntries(Object.entries(body).filter(([name]) => name !== k))),
      fc.tuple(key, hostile).map(([k, v]) => ({ ...body, [k]: { nested: v, value: body[k] } })),
      fc.constant([body]),
    );
  });
}

function bodies(valid: fc.Arbitrary<Body>): fc.Arbitrary<{ raw: string | undefined; headers: Record<string, string> }> {
  const payload = fc.oneof(
    { arbitrary: fc.anything().map((v) => ({ value: v })), weight: 2 },
    { arbitrary: fc.object().map((v) => ({ value: v })), weight: 2 },
    { arbitrary: mutated(valid).map((v) => ({ value: v })), weight: 5 },
    { arbitrary: valid.map((v) => ({ value: v as unknown })), weight: 3 },
    { arbitrary: fc.string({ maxLength: 40 }).map((raw) => ({ raw })), weight: 1 },
  );
  // Headers are the exception, not the rule: most requests must get past them to reach the domain.
  const sometimes = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary, weight: 1 });
  const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
  const headers = fc
    .record({
      'if-match': sometimes(fc.constantFrom('"0"', '"1"', '"999"', '*', 'W/"2"', 'soon', '"-1"', '"1", "2"')),
      'idempotency-key': sometimes(fc.oneof(fc.string({ unit: printable, minLength: 1, maxLength: 8 }), fc.string({ unit: printable, maxLength: 300 }))),
    })
    .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);
  return fc.tuple(payload, headers).map(([p, h]) => {
    let raw: string | undefined;
    if ('raw' in p) raw = p.raw;
    else {
      try {
        raw = JSON.stringify(p.value);
      } catch {
        raw = '{}';
      }
    }
    return { raw, headers: h };
  });
}

interface Target {
  /** Several records of the same kind, so no single stream grows long enough to slow every request down. */
  paths: string[];
  valid: fc.Arbitrary<Body>;
}

const POOL = 6;

async function pool(make: () => Promise<string>): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < POOL; i++) paths.push(await make());
  return paths;
}

async function throwAt(target: Target): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...target.paths), bodies(target.valid), async (path, { raw, headers }) => {
      const response = await fetch(server.baseUrl + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        ...(raw !== undefined && { body: raw }),
      });
      const answer = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status >= 500) throw new Error(`${response.status} for ${raw?.slice(0, 200)}: ${answer}`);
      if (response.status >= 400) {
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(answer).detail).toEqual(expect.any(String));
      }
      if (response.status >= 200 && response.status < 300) accepted.add(JSON.parse(answer).commandId);
    }),
    { numRuns: RUNS },
  );
}

describe(`bad input never breaks the server or the log (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  const targets: Record<string, () => Promise<Target>> = {
    report: async () => ({
      paths: ['/api/incidents'],
      valid: fc.record(
        {
          type: fc.constantFrom(...INCIDENT_TYPE_IDS),
          priority,
          location: fc.record({ lat, lng }),
          address: text(80),
          description: text(200),
          source: fc.constantFrom(...INCIDENT_SOURCES),
          reporter: fc.record({ name: text(20), phone: text(15) }, { requiredKeys: [] }),
          agencies,
        },
        { requiredKeys: ['type', 'priority', 'location'] },
      ),
    }),
    triage: async () => ({
      paths: await pool(async () => `/api/incidents/${await reportIncident(server, 'admin')}/triage`),
      valid: fc.record({ priority, type: fc.constantFrom(...INCIDENT_TYPE_IDS), agencies }, { requiredKeys: [] }),
    }),
    assignments: async () => {
      const units = [await registerUnit(server, 'traffic'), await registerUnit(server, 'traffic'), await registerUnit(server, 'fire')];
      const paths = await pool(async () => {
        const id = await reportIncident(server, 'admin');
        await command(server, 'admin', `/api/incidents/${id}/triage`, {});
        return `/api/incidents/${id}/assignments`;
      });
      return { paths, valid: fc.record({ unitId: fc.oneof(fc.constantFrom(...units), fc.uuid()) }) };
    },
    'unit status on incident': async () => {
      const paths = await pool(async () => {
        const id = await reportIncident(server, 'admin');
        await command(server, 'admin', `/api/incidents/${id}/triage`, {});
        const unitId = await registerUnit(server, 'traffic');
        await command(server, 'admin', `/api/incidents/${id}/assignments`, { unitId });
        return `/api/incidents/${id}/units/${unitId}/status`;
      });
      return { paths, valid: fc.record({ status: fc.constantFrom(...ASSIGNED_UNIT_STATUSES), destination: text(40) }, { requiredKeys: ['status'] }) };
    },
    resolve: async () => {
      const paths = await pool(async () => {
        const id = await reportIncident(server, 'admin');
        await command(server, 'admin', `/api/incidents/${id}/triage`, {});
        return `/api/incidents/${id}/resolve`;
      });
      return { paths, valid: fc.record({ summary: text(200) }, { requiredKeys: [] }) };
    },
    close: async () => {
      const paths = await pool(async () => {
        const id = await reportIncident(server, 'admin');
        await command(server, 'admin', `/api/incidents/${id}/triage`, {});
        await command(server, 'admin', `/api/incidents/${id}/resolve`, {});
        return `/api/incidents/${id}/close`;
      });
      return { paths, valid: fc.constant({}) };
    },
    cancel: async () => ({ paths: await pool(async () => `/api/incidents/${await reportIncident(server, 'admin')}/cancel`), valid: fc.record({ reason: text(100) }) }),
    reopen: async () => {
      const paths = await pool(async () => {
        const id = await reportIncident(server, 'admin');
        await command(server, 'admin', `/api/incidents/${id}/triage`, {});
        await command(server, 'admin', `/api/incidents/${id}/resolve`, {});
        return `/api/incidents/${id}/reopen`;
      });
      return { paths, valid: fc.record({ reason: text(100) }) };
    },
    notes: async () => ({ paths: await pool(async () => `/api/incidents/${await reportIncident(server, 'admin')}/notes`), valid: fc.record({ text: text(300) }) }),
    escalate: async () => ({
      paths: await pool(async () => `/api/incidents/${await reportIncident(server, 'admin', { priority: 5 })}/escalate`),
      valid: fc.record({ priority, agencies, reason: text(100) }, { requiredKeys: [] }),
    }),
    'register unit': async () => ({
      paths: ['/api/units'],
      valid: fc.constantFrom(...UNIT_TYPES).chain((t) =>
        fc.record(
          { callSign: text(12), agency: fc.constant(t.agency as string), type: fc.constant(t.id as string), homeStation: text(40), position: fc.record({ lat, lng }) },
          { requiredKeys: ['callSign', 'agency', 'type', 'homeStation'] },
        ),
      ),
    }),
    'unit readiness': async () => ({
      paths: await pool(async () => `/api/units/${await registerUnit(server, 'fire')}/status`),
      valid: fc.record({ status: fc.constantFrom('available', 'out_of_service'), reason: text(60) }, { requiredKeys: ['status'] }),
    }),
    'unit location': async () => ({
      paths: await pool(async () => `/api/units/${await registerUnit(server, 'ems')}/location`),
      valid: fc.record(
        { lat, lng, heading: fc.double({ min: 0, max: 360, noNaN: true }), speedKmh: fc.double({ min: 0, max: 400, noNaN: true }) },
        { requiredKeys: ['lat', 'lng'] },
      ),
    }),
  };

  it('records the log before the storm', async () => {
    // Targets are set up first, so the log's "before" includes their setup events.
    for (const [name, make] of Object.entries(targets)) {
      const target = await make();
      targets[name] = async () => target;
    }
    before = new Set((await allEvents(server)).map((e) => e.id));
  });

  for (const name of Object.keys(targets)) {
    it(`${name}: ${RUNS} random bodies, no 5xx`, async () => {
      await throwAt(await targets[name]!());
    });
  }

  it('afterwards the log holds exactly the earlier events plus those of accepted commands', async () => {
    const after = await allEvents(server);
    const added = after.filter((e) => !before.has(e.id));
    const strangers = added.filter((e) => !accepted.has(e.metadata.commandId as string));
    expect(strangers.map((e) => `${e.type} ${String(e.metadata.commandId)}`)).toEqual([]);
    const written = new Set(added.map((e) => e.metadata.commandId as string));
    expect([...accepted].filter((id) => !written.has(id))).toEqual([]);
    expect(after.filter((e) => before.has(e.id))).toHaveLength(before.size);
    // Sanity: the storm exercised both sides.
    expect(accepted.size).toBeGreaterThan(50);
    expect([...statuses.keys()].some((s) => s === 400)).toBe(true);
    console.log('bad input: responses by status', Object.fromEntries([...statuses].sort(([a], [b]) => a - b)));
  });
});
