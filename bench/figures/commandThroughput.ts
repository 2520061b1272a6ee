import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEmbedded, startEmbeddedPostgres } from '../../eventstore/embedded.ts';
import { DispatchLoad } from '../../test/fault/load.ts';
import { rate, type Figure, type Row } from '../harness.ts';
import { callChild, CpuMeter, describeCpu, freshDatabase, loginChild, POSTGRES_URL, rawInsertRate, REPO_ROOT, startChildServer, type CpuPerOperation } from '../support.ts';

/** The server's pool: postgres.js's default of 10 connections (the embedded store drives PGlite over one). */
const SERVER_POOL = { postgres: 10, embedded: 1 } as const;
/**
 * Closed-loop clients, each waiting for its answer before the next command: 16 (the figure as first measured) and 64
 * (as many consoles as a large centre runs; with 16 the server waits on round trips and idles, so that figure
 * measures latency as much as capacity).
 */
// BENCH_COMMAND_CLIENTS=64 measures one client count (experiments; the figure is both).
const CLIENT_COUNTS = process.env.BENCH_COMMAND_CLIENTS?.split(',').map(Number) ?? [16, 64];

/**
 * Commands per second over HTTP, as a dispatch centre sends them: each client runs whole incidents (report,
 * triage, assign, en route, on scene, note, cleared, resolve, close; every command with an Idempotency-Key)
 * against the real server in its own process, with its projector and live feed running. Beside it, the same
 * database's raw single-row INSERT rate over as many connections as the server's pool.
 */
export const commandThroughput: Figure = {
  name: 'commands',
  async run({ quick }) {
    const durationMs = quick ? 4000 : 10_000;
    const rows: Row[] = [];
    const kinds: Array<'postgres' | 'embedded'> = POSTGRES_URL ? ['postgres', 'embedded'] : ['embedded'];
    for (const kind of kinds) {
      let cleanup = async () => {};
      let raw: { perSecond: number; cpu: CpuPerOperation };
      let serverOptions: Parameters<typeof startChildServer>[0];
      if (kind === 'postgres') {
        const db = await freshDatabase('postgres');
        cleanup = () => db.close();
        raw = await rawInsertRate(db.url, SERVER_POOL.postgres, durationMs);
        serverOptions = { databaseUrl: db.url };
      } else {
        // The embedded server's PGlite lives inside the server process; the ceiling is the same engine in ours.
        const embedded = await startEmbeddedPostgres();
        const sql = connectEmbedded(embedded.url);
        try {
          raw = await rawInsertRate(embedded.url, 1, durationMs, () => sql);
        } finally {
          await sql.end();
          await embedded.close();
        }
        const dataDir = mkdtempSync(join(tmpdir(), 'cbd-bench-'));
        cleanup = async () => rmSync(dataDir, { recursive: true, force: true });
        serverOptions = { dataDir };
      }
      const ceiling = raw.perSecond;
      rows.push({
        figure: 'raw single-row INSERT (the ceiling)',
        setup: `${kind}, ${SERVER_POOL[kind]} connection(s)${kind === 'embedded' ? ', in-process PGlite' : ''}`,
        value: ceiling,
        unit: 'inserts/s',
        notes: `${describeCpu(raw.cpu, 'insert')}${kind === 'embedded' ? '; PGlite runs in the bench process here, so its CPU is under clients' : ''}`,
        cpu: raw.cpu,
      });
      try {
        // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": flags for the server under test (profiling).
        const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean);
        const floor = kind === 'postgres' ? await httpFloor(serverOptions.databaseUrl!, ceiling, durationMs, quick) : undefined;
        if (floor) rows.push(floor);
        for (const clients of CLIENT_COUNTS) {
          const server = await startChildServer({ ...serverOptions, ...(nodeArgs && { nodeArgs }) });
          try {
            const token = await loginChild(server.baseUrl, 'admin');
            const load = new DispatchLoad(server.baseUrl, token, clients);
            // Warm up (JIT, prepared statements, the units' registration), then count.
            const stop = new AbortController();
            const running = load.run(stop.signal);
            await new Promise((resolve) => setTimeout(resolve, quick ? 1000 : 3000));
            const before = load.acknowledged.length;
            const started = performance.now();
            const meter = new CpuMeter(server.pid);
            await new Promise((resolve) => setTimeout(resolve, durationMs));
            const count = load.acknowledged.length - before;
            const seconds = (performance.now() - started) / 1000;
            const cpu = meter.perOperation(count);
            stop.abort();
            await running;
            const perSecond = count / seconds;
            rows.push({
              figure: 'command throughput (HTTP, mixed)',
              setup: `${kind}, ${clients} clients, server pool ${SERVER_POOL[kind]}`,
              value: perSecond,
              unit: 'commands/s',
              ceiling,
              ratio: perSecond / ceiling,
              peakRssMiB: server.peakRssMiB(),
              notes: `ceiling: raw single-row INSERT, ${SERVER_POOL[kind]} connection(s)${kind === 'embedded' ? ', in-process PGlite' : ''}; ${load.unavailable.length} 5xx${floor ? `; ${(perSecond / floor.value).toFixed(2)} of the HTTP floor` : ''}; ${describeCpu(cpu, 'command')}${kind === 'embedded' ? ' (PGlite inside the server)' : ''}, ${cpuBound(cpu, raw.cpu, ceiling)}`,
              cpu,
            });
          } finally {
            await server.stop();
          }
        }
      } finally {
        await cleanup();
      }
    }
    return rows;
  },
};

/**
 * The HTTP floor (bench/floorServer.ts): the product's Fastify and postgres.js, a pool as large, and one INSERT per
 * request, driven by as many closed-loop clients as the larger commands row, over the same kept-alive connections.
 * It bounds what any HTTP command can reach on this machine, whatever the command does.
 */
async function httpFloor(databaseUrl: string, ceiling: number, durationMs: number, quick: boolean): Promise<Row> {
  const clients = Math.max(...CLIENT_COUNTS);
  const server = await startChildServer({ databaseUrl, entry: join(REPO_ROOT, 'bench', 'floorServer.ts') });
  try {
    const body = { type: 'fire', priority: 2, location: { lat: 27.11, lng: 114.99 }, address: '吉州区 阳明路' };
    let failed = 0;
    const request = async () => {
      const answer = await callChild(server.baseUrl, 'POST', '/floor', { body, raw: true });
      if (answer.status !== 201) failed++;
    };
    await rate(clients, quick ? 1000 : 3000, request);
    failed = 0; // counted over the measured window only
    const meter = new CpuMeter(server.pid);
    const measured = await rate(clients, durationMs, request);
    const cpu = meter.perOperation(measured.count);
    return {
      figure: 'HTTP floor (one INSERT per request)',
      setup: `postgres, ${clients} clients, Fastify + pool ${SERVER_POOL.postgres}`,
      value: measured.perSecond,
      unit: 'requests/s',
      ceiling,
      ratio: measured.perSecond / ceiling,
      peakRssMiB: server.peakRssMiB(),
      notes: `bench/floorServer.ts: JSON body validated, one INSERT, 201, nothing else; ${failed} failed; ${describeCpu(cpu, 'request')}`,
      cpu,
    };
  } finally {
    await server.stop();
  }
}

/**
 * What the CPU says about the ratio. With the cores busy, commands/s is about cores ÷ CPU per command, so the target of
 * half the ceiling asks a command to cost the machine no more than cores ÷ (ceiling ÷ 2): printed beside what it costs
 * and what a raw insert costs.
 */
function cpuBound(cpu: CpuPerOperation, insert: CpuPerOperation, ceiling: number): string {
  const atMost = Math.round((cpu.cores * 1e6) / Math.max(1, cpu.machine));
  const allowed = Math.round((cpu.cores * 1e6) / (ceiling / 2));
  return `${(cpu.machine / Math.max(1, insert.machine)).toFixed(1)}× a raw insert's; the cores allow at most ${atMost}/s at that cost (${(atMost / ceiling).toFixed(2)} × the ceiling), and 0.5 × the ceiling needs ≤ ${allowed} µs per command`;
}
