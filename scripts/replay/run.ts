// Replays SF calls through the public API's admin import routes, then compares the dashboard with the file.
import { v5 } from 'uuid';
import { incidentTypeInfo, type Priority } from '../../domain/catalog.ts';
import { ApiClient, describe } from '../../api/simulation/apiClient.ts';
import type { DurationKpi } from '../lib/stats.ts';
import { kpisFromCalls, type ReplayKpis } from './kpis.ts';
import { replayPlan } from './plan.ts';
import { incidentTypeOf, priorityOf, unitKindOf, type SfCall } from './sfCalls.ts';

export interface ReplayOptions {
  url: string;
  calls: readonly SfCall[];
  /** Business time runs this many times faster than real time; 'max' sends as fast as the server answers. */
  speed: number | 'max';
  username: string;
  password: string;
  onProgress?: (done: number, total: number) => void;
  /** How long to wait for the read models to hold the replay, ms. */
  settleTimeoutMs?: number;
}

export interface ReplayError {
  step: string;
  status: number;
  detail: string;
}

export interface ReplayResult {
  calls: number;
  units: number;
  commands: number;
  errors: ReplayError[];
  /** Unit facts left out because the file has the unit on a later call already (the system keeps one call per unit). */
  skipped: number;
  seconds: number;
  window: { from: string; to: string };
  system: ReplayKpis;
  csv: ReplayKpis;
  mismatches: string[];
}

const sameNumber = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) < 1e-6);

export function compareKpis(system: ReplayKpis, csv: ReplayKpis): string[] {
  const out: string[] = [];
  const types = new Set([...Object.keys(system.countsByType), ...Object.keys(csv.countsByType)]);
  for (const type of [...types].sort()) {
    if ((system.countsByType[type] ?? 0) !== (csv.countsByType[type] ?? 0)) out.push(`count of ${type}: system ${system.countsByType[type] ?? 0}, file ${csv.countsByType[type] ?? 0}`);
  }
  for (const name of ['receivedToDispatch', 'receivedToOnScene'] as const) {
    for (const field of ['p50', 'p90', 'n'] as const) {
      const a = system[name][field];
      const b = csv[name][field];
      if (!sameNumber(a, b)) out.push(`${name}.${field}: system ${a}, file ${b}`);
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fixed: the replay's ids derive from the file's own, so replaying a file again lands on the same records. */
const REPLAY_NAMESPACE = '8d3e2b71-4c5a-4e0f-9b6d-1f2a3c4d5e6f';
const callIncidentId = (callNumber: string) => v5(`sf:call:${callNumber}`, REPLAY_NAMESPACE);
const sfUnitId = (unitId: string) => v5(`sf:unit:${unitId}`, REPLAY_NAMESPACE);

type Item = Record<string, unknown> & { kind: string; key: string; occurredAt: string; at: number; label: string };

const BATCH_SIZE = 500;

/**
 * The commands for the plan, in order. A unit the file puts on a new call before it was logged available on
 * the last one is cleared there first (the system keeps a unit on one incident at a time); that unit's later
 * facts on the old call are left out and counted.
 */
export function replayItems(calls: readonly SfCall[]): { items: Item[]; units: number; skipped: number } {
  const items: Item[] = [];
  const push = (at: number, label: string, key: string, body: Record<string, unknown> & { kind: string }) =>
    items.push({ ...body, key: `replay:sf:${key}`, occurredAt: new Date(at).toISOString(), at, label });

  const first = calls[0]!.received;
  const units = new Map<string, { sfUnitType: string; stationArea: string }>();
  for (const call of calls) for (const u of call.units) if (!units.has(u.unitId)) units.set(u.unitId, { sfUnitType: u.sfUnitType, stationArea: u.stationArea });
  for (const [sfId, u] of units) {
    const { agency, type } = unitKindOf(u.sfUnitType);
    // Units and their stations, from the file: registered an hour before the first call.
    push(first - 3_600_000, `register unit ${sfId}`, `unit:${sfId}`, { kind: 'register_unit', unitId: sfUnitId(sfId), callSign: sfId, agency, type, homeStation: `SFFD Station ${u.stationArea || '?'}` });
  }

  const unitOn = new Map<string, string>();
  const dropped = new Set<string>();
  let skipped = 0;
  for (const step of replayPlan(calls)) {
    const call = step.call;
    const incidentId = callIncidentId(call.callNumber);
    const label = `call ${call.callNumber} ${step.kind}${'unit' in step ? ` ${step.unit.unitId}` : ''}${step.kind === 'status' ? ` ${step.status}` : ''}`;
    switch (step.kind) {
      case 'report': {
        const type = incidentTypeOf(call.callType);
        push(step.at, label, `${call.callNumber}:report`, {
          kind: 'report',
          incidentId,
          type,
          priority: priorityOf(call, (incidentTypeInfo(type)?.defaultPriority ?? 3) as Priority),
          location: { lat: call.lat, lng: call.lng },
          ...(call.address !== '' && { address: call.address.slice(0, 500) }),
          description: `SFFD call ${call.callNumber} (incident ${call.incidentNumber}): ${call.callType}`,
          // SF sends fire and EMS units to most calls; the incident must involve both for either to be assigned.
          agencies: ['fire', 'ems'],
        });
        break;
      }
      case 'triage':
      case 'resolve':
      case 'close':
        push(step.at, label, `${call.callNumber}:${step.kind}`, { kind: step.kind, incidentId });
        break;
      case 'assign': {
        const sfId = step.unit.unitId;
        const busyOn = unitOn.get(sfId);
        if (busyOn !== undefined && busyOn !== call.callNumber) {
          push(step.at, `call ${busyOn} clear ${sfId} (taken by call ${call.callNumber})`, `${busyOn}:${sfId}:forced-clear`, {
            kind: 'unit_status',
            incidentId: callIncidentId(busyOn),
            unitId: sfUnitId(sfId),
            status: 'cleared',
          });
          dropped.add(`${busyOn}:${sfId}`);
        }
        push(step.at, label, `${call.callNumber}:${sfId}:assign`, { kind: 'assign', incidentId, unitId: sfUnitId(sfId) });
        unitOn.set(sfId, call.callNumber);
        break;
      }
      case 'status': {
        const sfId = step.unit.unitId;
        if (dropped.has(`${call.callNumber}:${sfId}`)) {
          skipped++;
          break;
        }
        push(step.at, label, `${call.callNumber}:${sfId}:${step.status}`, { kind: 'unit_status', incidentId, unitId: sfUnitId(sfId), status: step.status });
        if (step.status === 'cleared' && unitOn.get(sfId) === call.callNumber) unitOn.delete(sfId);
        break;
      }
    }
  }
  return { items, units: units.size, skipped };
}

export async function replayCalls(options: ReplayOptions): Promise<ReplayResult> {
  const { calls } = options;
  if (calls.length === 0) throw new Error('there are no calls to replay');
  const api = new ApiClient(options.url.replace(/\/$/, ''));
  const token = await api.login(options.username, options.password);
  const { items, units, skipped } = replayItems(calls);
  const errors: ReplayError[] = [];
  const started = performance.now();

  // Registrations first, then the calls; at a finite speed, business time runs `speed` times faster than real time.
  const t0 = items.find((i) => i.kind !== 'register_unit')?.at ?? items[0]!.at;
  let next = 0;
  while (next < items.length) {
    let end = next;
    if (options.speed === 'max') end = Math.min(items.length, next + BATCH_SIZE);
    else {
      const now = t0 + (performance.now() - started) * options.speed;
      while (end < items.length && end - next < BATCH_SIZE && items[end]!.at <= now) end++;
      if (end === next) {
        await sleep(Math.min(1000, Math.max(5, (items[next]!.at - now) / options.speed)));
        continue;
      }
    }
    const batch = items.slice(next, end);
    const answer = await api.request<{ results: Array<{ key: string; status: number; problem?: unknown }> }>('POST', '/api/import/batch', {
      token,
      body: { items: batch.map(({ at: _at, label: _label, ...item }) => item) },
    });
    if (answer.status !== 200) throw new Error(`POST /api/import/batch answered ${answer.status}: ${describe(answer.body)}`);
    for (const [i, result] of answer.body.results.entries()) {
      if (result.status >= 300) errors.push({ step: batch[i]!.label, status: result.status, detail: describe(result.problem) });
    }
    next = end;
    options.onProgress?.(next, items.length);
  }
  const seconds = (performance.now() - started) / 1000;

  const first = calls[0]!.received;
  const last = Math.max(...calls.map((c) => c.received));
  const window = { from: new Date(first).toISOString(), to: new Date(last + 1000).toISOString() };
  const system = await settledDashboard(api, token, window, calls.length, options.settleTimeoutMs ?? 120_000);
  const csv = kpisFromCalls(calls);
  return { calls: calls.length, units, commands: items.length, errors, skipped, seconds, window, system, csv, mismatches: compareKpis(system, csv) };
}

interface DashboardBody {
  open: { total: number };
  countsByType: Record<string, number>;
  kpis: { receivedToDispatch: DurationKpi; receivedToOnScene: DurationKpi };
}

/** The dashboard over the replay's window once the read models hold every call and none is still open. */
async function settledDashboard(api: ApiClient, token: string, window: { from: string; to: string }, calls: number, timeoutMs: number): Promise<ReplayKpis> {
  const deadline = performance.now() + timeoutMs;
  const path = `/api/dashboard?from=${encodeURIComponent(window.from)}&to=${encodeURIComponent(window.to)}`;
  for (;;) {
    const answer = await api.request<DashboardBody>('GET', path, { token });
    if (answer.status !== 200) throw new Error(`GET /api/dashboard answered ${answer.status}: ${describe(answer.body)}`);
    const total = Object.values(answer.body.countsByType).reduce((a, b) => a + b, 0);
    if ((total >= calls && answer.body.open.total === 0) || performance.now() > deadline) {
      const { countsByType, kpis } = answer.body;
      return {
        countsByType: Object.fromEntries(Object.entries(countsByType).sort(([a], [b]) => a.localeCompare(b))),
        receivedToDispatch: kpis.receivedToDispatch,
        receivedToOnScene: kpis.receivedToOnScene,
      };
    }
    await sleep(200);
  }
}
