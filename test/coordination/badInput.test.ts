// Random bodies thrown at the coordination routes: nothing may answer 5xx, and a refused command writes nothing.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENCIES } from '../../domain/index.ts';
import { command, JIAN } from '../api/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const RUNS = Number(process.env.BAD_INPUT_RUNS ?? 150);

let server: TestServer;
let incident: string;
let other: string;
let enforcementCase: string;

beforeAll(async () => {
  server = await startTestServer();
  incident = (await command(server, 'admin', '/api/incidents', { type: 'traffic_accident_injuries', priority: 2, location: JIAN }, 201)).body.id;
  other = (await command(server, 'admin', '/api/incidents', { type: 'traffic_accident', priority: 3, location: JIAN }, 201)).body.id;
  enforcementCase = (await command(server, 'admin', '/api/incidents', { type: 'urban_management', priority: 5, location: JIAN }, 201)).body.id;
  for (const id of [incident, other, enforcementCase]) await command(server, 'admin', `/api/incidents/${id}/triage`, {});
});
afterAll(async () => {
  await server?.close();
});

const hostile = fc.oneof(fc.anything(), fc.constantFrom(0, -1, 1e308, '', ' ', null, true, [], {}, 'x'.repeat(5000)), fc.string({ maxLength: 20 }));
const agency = fc.oneof(fc.constantFrom(...AGENCIES), fc.string({ maxLength: 12 }));

function body(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    valid,
    valid.chain((b) => {
      const keys = Object.keys(b);
      return keys.length ? fc.tuple(fc.constantFrom(...keys), hostile).map(([k, v]) => ({ ...b, [k]: v })) : fc.constant({ extra: 1 });
    }),
    fc.tuple(valid, fc.string({ maxLength: 8 }), fc.anything()).map(([b, k, v]) => ({ ...b, [k]: v })),
    hostile,
  );
}

const routes: Array<[string, fc.Arbitrary<string>, fc.Arbitrary<unknown>]> = [
  ['claim', agency.map((a) => `/api/incidents/${incident}/legs/${a}/claim`), body(fc.constant({}))],
  ['complete', agency.map((a) => `/api/incidents/${incident}/legs/${a}/complete`), body(fc.record({ summary: fc.string({ maxLength: 50 }) }))],
  ['mutual aid', fc.constant('/api/incidents/INC/mutual-aid'), body(fc.record({ agency, note: fc.string({ maxLength: 50 }) }))],
  ['accept', agency.map((a) => `/api/incidents/${incident}/mutual-aid/${a}/accept`), body(fc.constant({}))],
  ['decline', agency.map((a) => `/api/incidents/${incident}/mutual-aid/${a}/decline`), body(fc.record({ reason: fc.string({ maxLength: 50 }) }))],
  ['lead', fc.constant('/api/incidents/INC/lead'), body(fc.record({ to: agency, reason: fc.string({ maxLength: 20 }) }))],
  ['merge', fc.constant('/api/incidents/OTHER/merge'), body(fc.record({ into: fc.oneof(fc.constant('INC'), fc.string({ maxLength: 20 })) }))],
  ['split', fc.constant('/api/incidents/INC/split'), body(fc.record({ duplicateId: fc.oneof(fc.constant('OTHER'), fc.string({ maxLength: 20 })) }))],
  ['inspection', fc.constant('/api/incidents/CASE/inspection'), body(fc.record({ findings: fc.string({ maxLength: 30 }), violationFound: fc.boolean() }))],
  ['rectification', fc.constant('/api/incidents/CASE/rectification'), body(fc.record({ requirements: fc.string({ maxLength: 30 }), deadlineDays: fc.integer({ min: -5, max: 400 }) }))],
  ['reinspection', fc.constant('/api/incidents/CASE/reinspection'), body(fc.record({ compliant: fc.boolean(), findings: fc.string({ maxLength: 30 }) }))],
];

/** Events on the incidents these routes touch, read per stream (the global log hides what is still behind its read horizon). */
async function written(): Promise<number> {
  const streams = await Promise.all([incident, other, enforcementCase].map((id) => server.store.readStream(`incident-${id}`)));
  return streams.reduce((n, s) => n + s.length, 0);
}

describe('coordination routes under random input', () => {
  for (const [name, paths, bodies] of routes) {
    it(`${name}: 2xx or a 4xx problem, never 5xx; refusals write nothing`, async () => {
      const token = await server.login('admin');
      await fc.assert(
        fc.asyncProperty(paths, bodies, async (rawPath, payload) => {
          const path = rawPath.replace('/INC/', `/${incident}/`).replace('/OTHER/', `/${other}/`).replace('/CASE/', `/${enforcementCase}/`);
          const json = JSON.stringify(payload === undefined ? null : payload);
          const before = await written();
          const response = await server.call('POST', encodeURI(path), { token, body: json });
          expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
          if (response.status >= 400) {
            expect(response.headers.get('content-type')).toMatch(/problem\+json/);
            expect(await written()).toBe(before);
          }
        }),
        { numRuns: RUNS },
      );
    }, 120_000);
  }
});
