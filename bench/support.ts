// What several figures share: a fresh database, the raw insert ceiling, a synthetic but well-formed event log.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import postgres from 'postgres';
import { newId } from '../eventstore/eventIds.ts';
import type { EventStore, EventToAppend, RecordedEvent } from '../eventstore/port.ts';
import { assignUnit, changeUnitStatus } from '../api/commands/assignUnit.ts';
import { incidents, units } from '../api/commands/aggregates.ts';
import { handleCommand } from '../api/commands/commandHandler.ts';
import type { CommandMeta } from '../domain/metadata.ts';
import { openTestDatabase, type TestDatabase } from '../test/support/db.ts';
import { rate } from './harness.ts';

export { callChild, loginChild, REPO_ROOT, startChildServer, type ChildServer } from '../test/support/childServer.ts';

/** Clock ticks per second in /proc (USER_HZ), 100 on every Linux this runs on. */
const TICKS = 100;

/** A process's command name and CPU time (user + system) so far, in seconds, from the text of /proc/<pid>/stat. */
function readStat(stat: string): { name: string; cpuSeconds: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS };
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc. */
export function processCpuSeconds(pid: number): number {
  try {
    return readStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuSeconds;
  } catch {
    return Number.NaN;
  }
}

/** Busy CPU seconds of the whole machine, all cores together (user, nice, system, irq, softirq, steal), from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds used so far by each of the PostgreSQL server's processes on this machine (its backends and background
 * workers: WAL writer, checkpointer, autovacuum), found by command name, by pid.
 */
function postgresCpuByPid(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { name, cpuSeconds } = readStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (name === 'postgres') byPid.set(Number(entry), cpuSeconds);
    } catch {
      // gone between the listing and the read
    }
  }
  return byPid;
}

/**
 * PostgreSQL's CPU since `before`: what each process alive now has used since then (all of it, for one started
 * since). A process that exited in between takes its count with it, so this is a floor when backends come and go
 * during the window (other clients connecting); the benches keep their connections open.
 */
function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, now] of postgresCpuByPid()) {
    const then = before.get(pid);
    total += then !== undefined && then <= now ? now - then : now;
  }
  return total;
}

/** Where the machine's CPU went per operation, in µs: all of it, and the parts measured apart. */
export interface CpuPerOperation {
  machine: number;
  postgres: number;
  /** This (the bench's) process: the load generator's clients. */
  clients: number;
  /** The server under test, when it runs in a process of its own. */
  server?: number;
  /** How busy the machine's cores were over the window, 0–1. */
  busy: number;
  cores: number;
}

/**
 * CPU spent over a measured window, split by who spent it. Beside a rate it says whether the rate was bound by the
 * machine's cores (busy near 1) and what one operation costs in CPU, which is what a ratio of two rates on the same
 * cores comes down to when both are CPU-bound.
 */
export class CpuMeter {
  private readonly started = performance.now();
  private readonly machine = machineBusySeconds();
  private readonly postgres = postgresCpuByPid();
  private readonly clients = process.cpuUsage();
  private readonly server: number | undefined;

  constructor(private readonly serverPid?: number) {
    this.server = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  }

  perOperation(operations: number): CpuPerOperation {
    const seconds = (performance.now() - this.started) / 1000;
    const cores = availableParallelism();
    const clients = process.cpuUsage(this.clients);
    const micros = (cpuSeconds: number) => Math.round((cpuSeconds / Math.max(1, operations)) * 1e6);
    const machine = machineBusySeconds() - this.machine;
    return {
      machine: micros(machine),
      postgres: micros(postgresCpuSince(this.postgres)),
      clients: micros((clients.user + clients.system) / 1e6),
      ...(this.serverPid !== undefined && { server: micros(processCpuSeconds(this.serverPid) - this.server!) }),
      busy: machine / (seconds * cores),
      cores,
    };
  }
}

/** One line for a row's notes: a CpuPerOperation in words. */
export function describeCpu(cpu: CpuPerOperation, per: string): string {
  const parts = [cpu.server !== undefined && `server ${cpu.server}`, `PostgreSQL ${cpu.postgres}`, `clients ${cpu.clients}`].filter(Boolean).join(', ');
  return `machine CPU ${cpu.machine} µs per ${per} (${parts}), cores ${Math.round(cpu.busy * 100)}% busy`;
}

/** PostgreSQL figures need a server; without DATABASE_URL they are reported as not measured. */
export const POSTGRES_URL = process.env.DATABASE_URL;

export async function freshDatabase(kind: 'postgres' | 'pglite'): Promise<TestDatabase> {
  return openTestDatabase({ kind, migrate: kind === 'pglite' });
}

/**
 * The physical ceiling for one write: a single-row INSERT (a uuid key under a unique index, a small jsonb
 * payload, one implicit transaction) in a tight loop over `connections` connections, for `durationMs`.
 */
export async function rawInsertRate(url: string, connections: number, durationMs: number, open?: () => postgres.Sql): Promise<{ perSecond: number; cpu: CpuPerOperation }> {
  const sql = open ? open() : postgres(url, { max: connections, onnotice: () => {} });
  try {
    await sql`create table if not exists bench_raw (id bigserial primary key, k uuid not null unique, payload jsonb not null)`;
    const payload = { type: 'fire', priority: 2, location: { lat: 27.11, lng: 114.99 }, address: '吉州区 阳明路' };
    // Warm every connection and its prepared statement first.
    await Promise.all(Array.from({ length: connections }, () => sql`insert into bench_raw (k, payload) values (${newId()}, ${sql.json(payload)})`));
    const meter = new CpuMeter();
    const measured = await rate(connections, durationMs, async () => {
      await sql`insert into bench_raw (k, payload) values (${newId()}, ${sql.json(payload)})`;
    });
    const cpu = meter.perOperation(measured.count);
    await sql`drop table bench_raw`;
    return { perSecond: measured.perSecond, cpu };
  } finally {
    if (!open) await sql.end({ timeout: 5 });
  }
}

function commandMeta(occurredAt: string): CommandMeta {
  return { commandId: newId(), actor: 'bench', role: 'admin', agency: 'police', occurredAt };
}

/** Replaces every occurrence of the template's ids in a JSON-able value. */
function substitute<T>(value: T, ids: Map<string, string>): T {
  let text = JSON.stringify(value);
  for (const [from, to] of ids) text = text.split(from).join(to);
  return JSON.parse(text) as T;
}

/**
 * Writes at least `target` events through the store's own append. One incident's whole life (reported,
 * triaged, a unit assigned, en route, on scene, notes, cleared, resolved, closed) is run once through the
 * real command handlers; its events are then cloned with fresh ids and business times, one append per
 * stream per incident, on a pool of units. So the projector folds exactly what the domain writes today.
 */
export async function writeSyntheticLog(
  store: EventStore,
  target: number,
  options: { concurrency?: number; units?: number; notes?: number; onProgress?: (written: number) => void } = {},
): Promise<{ events: number; incidents: number }> {
  const concurrency = options.concurrency ?? 8;
  const unitCount = options.units ?? 200;
  let clock = Date.parse('2026-03-02T00:00:00.000Z');
  const at = () => new Date((clock += 1000)).toISOString();

  // The template: one unit and one incident, through the real handlers.
  const tUnit = newId();
  const tIncident = newId();
  await handleCommand(store, units, tUnit, {
    type: 'RegisterUnit',
    data: { unitId: tUnit, agency: 'police', callSign: 'BENCH-T', unitType: 'patrol_car', homeStation: 'bench station', position: { lat: 27.1, lng: 114.98 } },
  } as never, commandMeta(at()));
  await handleCommand(store, incidents, tIncident, {
    type: 'ReportIncident',
    data: { incidentId: tIncident, type: 'public_order', priority: 3, location: { lat: 27.11, lng: 114.99 }, address: 'bench address', description: 'synthetic incident for the benchmark' },
  } as never, commandMeta(at()));
  await handleCommand(store, incidents, tIncident, { type: 'TriageIncident', data: {} } as never, commandMeta(at()));
  await assignUnit(store, { incidentId: tIncident, unitId: tUnit }, commandMeta(at()));
  for (const status of ['en_route', 'on_scene'] as const) await changeUnitStatus(store, { incidentId: tIncident, unitId: tUnit, status }, commandMeta(at()));
  for (let k = 0; k < (options.notes ?? 3); k++) await handleCommand(store, incidents, tIncident, { type: 'AddNote', data: { text: `note ${k}` } } as never, commandMeta(at()));
  await changeUnitStatus(store, { incidentId: tIncident, unitId: tUnit, status: 'cleared' }, commandMeta(at()));
  await handleCommand(store, incidents, tIncident, { type: 'ResolveIncident', data: { summary: 'handled' } } as never, commandMeta(at()));
  await handleCommand(store, incidents, tIncident, { type: 'CloseIncident', data: {} } as never, commandMeta(at()));
  const [registration, ...unitCycle] = await store.readStream(`unit-${tUnit}`);
  const incidentCycle = await store.readStream(`incident-${tIncident}`);
  let written = 1 + unitCycle.length + incidentCycle.length;

  const clone = (events: RecordedEvent[], ids: Map<string, string>): EventToAppend[] =>
    events.map((e) => ({
      id: newId(),
      type: e.type,
      data: substitute(e.data, ids),
      metadata: { ...substitute(e.metadata, ids), commandId: newId(), occurredAt: at() },
    }));

  const pool = Array.from({ length: unitCount }, () => ({ id: newId(), revision: -1n }));
  for (let i = 0; i < pool.length; i += concurrency) {
    await Promise.all(
      pool.slice(i, i + concurrency).map(async (unit, k) => {
        const ids = new Map([[tUnit, unit.id], ['BENCH-T', `BENCH-${i + k}`]]);
        unit.revision = (await store.append(`unit-${unit.id}`, clone([registration!], ids), 'no_stream')).nextRevision;
        written += 1;
      }),
    );
  }

  let made = 1;
  const worker = async (w: number) => {
    for (let u = w; written < target; u += concurrency) {
      const unit = pool[u % pool.length]!;
      const incidentId = newId();
      const ids = new Map([[tIncident, incidentId], [tUnit, unit.id], ['BENCH-T', `BENCH-${u % pool.length}`]]);
      await store.append(`incident-${incidentId}`, clone(incidentCycle, ids), 'no_stream');
      unit.revision = (await store.append(`unit-${unit.id}`, clone(unitCycle, ids), unit.revision)).nextRevision;
      written += incidentCycle.length + unitCycle.length;
      made += 1;
      options.onProgress?.(written);
    }
  };
  // Each worker owns the units u ≡ w (mod concurrency): no two appends race for one unit stream.
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return { events: written, incidents: made };
}
