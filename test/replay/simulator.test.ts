import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate, type SimulationSummary } from '../../api/simulation/run.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';

const COMMANDS = 300;

let server: TestServer;
let summary: SimulationSummary;

beforeAll(async () => {
  server = await startTestServer();
  // A simulated hour per real second, busier than a real day, so a few hundred commands cover whole incidents.
  summary = await simulate({ url: server.baseUrl, password: TEST_PASSWORD, rate: 3600, tickMs: 50, intensity: 3, maxCommands: COMMANDS, seed: 42 });
}, 180_000);
afterAll(async () => {
  await server?.close();
});

describe(`the city simulator against a started server (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('sends the set number of commands with no unexpected error', () => {
    expect(summary.commands).toBe(COMMANDS);
    expect(summary.unexpectedErrors).toEqual([]);
    expect(summary.errors).toBe(summary.expectedConflicts);
  });

  it('reports incidents, assigns the nearest units, moves them and brings them on scene', async () => {
    expect(summary.incidentsOpened).toBeGreaterThan(0);
    for (const kind of ['register', 'report', 'triage', 'assign', 'en_route', 'location', 'on_scene']) {
      expect(summary.commandsByKind[kind], kind).toBeGreaterThan(0);
    }
    await server.settle();
    const board = await server.sql<{ n: number }[]>`select count(*)::int as n from incident_board`;
    expect(board[0]!.n).toBe(summary.incidentsOpened);
    const moved = await server.sql`select count(*)::int as n from event_log where type = 'UnitLocationReported'`;
    expect(moved[0]!.n).toBe(summary.commandsByKind.location);
    expect(summary.kpis?.receivedToDispatch.n).toBeGreaterThan(0);
  });
});
