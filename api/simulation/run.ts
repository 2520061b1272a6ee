// The city simulator: drives a running server through its public API as its dispatchers and field units would.
import { AGENCIES, incidentTypeInfo, primaryUnitType, UNIT_TYPES, type Agency, type IncidentType } from '../../domain/catalog.ts';
import { ApiClient, describe, type ApiAnswer } from './apiClient.ts';
import { distanceKm, heading, INCIDENTS_PER_HOUR, pick, poisson, random, randomPoint, towards, typeWeights, type Point } from './city.ts';

export interface SimulateOptions {
  url: string;
  /** Password of the demo accounts (dispatcher.<agency>, supervisor.<agency>, admin). */
  password: string;
  /** Simulated seconds per real second (60: a simulated hour takes a real minute). */
  rate: number;
  /** Stop after this much simulated time, in seconds. */
  durationSeconds?: number;
  /** Stop after this many commands. */
  maxCommands?: number;
  /** Busier or quieter than the typical day: multiplies the incidents per hour. */
  intensity?: number;
  /** Simulated time of day to start at, in hours (default 8). */
  startHour?: number;
  seed?: number;
  /** Real milliseconds between ticks. */
  tickMs?: number;
  /** Register a few units for agencies that have none (a fresh server). Default true. */
  ensureUnits?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: SimulationProgress) => void;
}

export interface SimulationProgress {
  commands: number;
  simulatedSeconds: number;
  incidentsOpened: number;
  incidentsClosed: number;
  errors: number;
}

export interface SimulationSummary extends SimulationProgress {
  /** Refusals a real dispatcher also meets: a unit taken by someone else a moment earlier. */
  expectedConflicts: number;
  unexpectedErrors: Array<{ command: string; status: number; detail: string }>;
  commandsByKind: Record<string, number>;
  realSeconds: number;
  kpis: { receivedToDispatch: Kpi; receivedToOnScene: Kpi; receivedToResolved: Kpi } | null;
  units: { total: number; busy: number; utilisation: number } | null;
}

interface Kpi {
  p50: number | null;
  p90: number | null;
  n: number;
}

interface UnitRow {
  id: string;
  callSign: string;
  agency: Agency;
  type: string;
  readiness: string;
  status: string;
  position: Point | null;
}

interface Responder {
  unitId: string;
  agency: Agency;
  speedKmh: number;
  position: Point;
  phase: 'en_route' | 'on_scene' | 'cleared';
  /** Simulated second at which the unit leaves the scene. */
  leaveAt?: number;
}

interface SimIncident {
  id: string;
  type: IncidentType;
  location: Point;
  agencies: Agency[];
  /** Agencies still waiting for a unit. */
  needs: Agency[];
  responders: Responder[];
  done: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


export async function simulate(options: SimulateOptions): Promise<SimulationSummary> {
  const api = new ApiClient(options.url.replace(/\/$/, ''));
  const rand = random(options.seed ?? 7);
  const tickMs = options.tickMs ?? 250;
  const intensity = options.intensity ?? 1;
  const startedReal = performance.now();
  const startedAt = new Date().toISOString();
  const summary: SimulationSummary = {
    commands: 0,
    simulatedSeconds: 0,
    incidentsOpened: 0,
    incidentsClosed: 0,
    errors: 0,
    expectedConflicts: 0,
    unexpectedErrors: [],
    commandsByKind: {},
    realSeconds: 0,
    kpis: null,
    units: null,
  };
  const token = (username: string) => api.login(username, options.password);
  const budgetLeft = () => options.maxCommands === undefined || summary.commands < options.maxCommands;

  /** One command; true when it was accepted. A 409 on an assignment is a race a dispatcher meets too. */
  const command = async (kind: string, username: string, path: string, body: Record<string, unknown>): Promise<ApiAnswer | undefined> => {
    if (!budgetLeft()) return undefined;
    summary.commands++;
    summary.commandsByKind[kind] = (summary.commandsByKind[kind] ?? 0) + 1;
    const answer = await api.request('POST', path, { token: await token(username), body });
    if (answer.status < 300) return answer;
    summary.errors++;
    if (kind === 'assign' && answer.status === 409) summary.expectedConflicts++;
    else summary.unexpectedErrors.push({ command: `${kind} ${path}`, status: answer.status, detail: describe(answer.body) });
    return undefined;
  };

  const listUnits = async (): Promise<UnitRow[]> => {
    const answer = await api.request<UnitRow[]>('GET', '/api/units', { token: await token('admin') });
    if (answer.status !== 200) throw new Error(`GET /api/units answered ${answer.status}: ${describe(answer.body)}`);
    return answer.body;
  };

  if (options.ensureUnits !== false) {
    const existing = await listUnits();
    for (const agency of AGENCIES) {
      if (existing.some((u) => u.agency === agency)) continue;
      for (let i = 1; i <= 3; i++) {
        await command('register', 'admin', '/api/units', { callSign: `SIM-${agency.toUpperCase()}-${i}`, agency, type: primaryUnitType(agency), homeStation: `${agency} simulation station`, position: randomPoint(rand) });
      }
    }
  }

  const incidents: SimIncident[] = [];
  const busy = new Set<string>();
  const positions = new Map<string, Point>();
  let simSeconds = (options.startHour ?? 8) * 3600;
  const simStart = simSeconds;
  let units: UnitRow[] = [];
  let unitsFetched = -Infinity;

  const stopped = () =>
    options.signal?.aborted === true || !budgetLeft() || (options.durationSeconds !== undefined && simSeconds - simStart >= options.durationSeconds);

  while (!stopped()) {
    const tickStarted = performance.now();
    const dt = (tickMs / 1000) * options.rate;
    simSeconds += dt;
    const hour = Math.floor(simSeconds / 3600) % 24;

    // New incidents for this slice of the day.
    const arrivals = poisson(rand, ((INCIDENTS_PER_HOUR[hour] ?? 10) * intensity * dt) / 3600);
    for (let i = 0; i < arrivals && !stopped(); i++) {
      const type = pick(rand, typeWeights(hour));
      const info = incidentTypeInfo(type)!;
      const location = randomPoint(rand);
      const reporter = `dispatcher.${info.agencies[0]}`;
      const reported = await command('report', reporter, '/api/incidents', { type, priority: info.defaultPriority, location, source: rand() < 0.2 ? 'hotline_12345' : 'phone', description: `Simulated ${info.en.toLowerCase()}` });
      if (!reported) continue;
      summary.incidentsOpened++;
      const id = reported.body.id as string;
      await command('triage', reporter, `/api/incidents/${id}/triage`, {});
      // Up to two agencies are sent units; the others are informed by the incident's record.
      const agencies = [...info.agencies] as Agency[];
      incidents.push({ id, type, location, agencies, needs: agencies.slice(0, 2), responders: [], done: false });
    }

    // Dispatchers assign the nearest available unit of each agency still needed.
    if (incidents.some((inc) => inc.needs.length > 0) && performance.now() - unitsFetched > 1000) {
      units = await listUnits();
      unitsFetched = performance.now();
    }
    for (const incident of incidents) {
      for (const agency of [...incident.needs]) {
        if (stopped()) break;
        const candidates = units.filter((u) => u.agency === agency && u.readiness === 'available' && u.status === 'idle' && !busy.has(u.id));
        if (candidates.length === 0) continue;
        const position = (u: UnitRow) => positions.get(u.id) ?? u.position ?? randomPoint(rand);
        const nearest = candidates.reduce((best, u) => (distanceKm(position(u), incident.location) < distanceKm(position(best), incident.location) ? u : best));
        busy.add(nearest.id);
        const assigned = await command('assign', `dispatcher.${agency}`, `/api/incidents/${incident.id}/assignments`, { unitId: nearest.id });
        if (!assigned) continue;
        incident.needs = incident.needs.filter((a) => a !== agency);
        await command('en_route', `supervisor.${agency}`, `/api/incidents/${incident.id}/units/${nearest.id}/status`, { status: 'en_route' });
        const speedKmh = UNIT_TYPES.find((t) => t.id === nearest.type)?.speedKmh ?? 40;
        incident.responders.push({ unitId: nearest.id, agency, speedKmh, position: position(nearest), phase: 'en_route' });
      }
    }

    // Units drive in straight lines, report where they are, arrive, work the scene and clear.
    for (const incident of incidents) {
      if (incident.done) continue;
      for (const r of incident.responders) {
        if (stopped()) break;
        const statusPath = `/api/incidents/${incident.id}/units/${r.unitId}/status`;
        if (r.phase === 'en_route') {
          const next = towards(r.position, incident.location, (r.speedKmh * dt) / 3600);
          const moved = await command('location', `supervisor.${r.agency}`, `/api/units/${r.unitId}/location`, { lat: next.lat, lng: next.lng, heading: Math.round(heading(r.position, incident.location)), speedKmh: r.speedKmh });
          if (moved) {
            r.position = next;
            positions.set(r.unitId, next);
          }
          if (distanceKm(r.position, incident.location) < 0.01 && (await command('on_scene', `supervisor.${r.agency}`, statusPath, { status: 'on_scene' }))) {
            r.phase = 'on_scene';
            r.leaveAt = simSeconds + 600 + rand() * 1800;
          }
        } else if (r.phase === 'on_scene' && simSeconds >= (r.leaveAt ?? 0)) {
          if (await command('cleared', `supervisor.${r.agency}`, statusPath, { status: 'cleared' })) {
            r.phase = 'cleared';
            busy.delete(r.unitId);
          }
        }
      }
      if (incident.needs.length === 0 && incident.responders.length > 0 && incident.responders.every((r) => r.phase === 'cleared') && !stopped()) {
        const dispatcher = `dispatcher.${incident.agencies[0]}`;
        if (await command('resolve', dispatcher, `/api/incidents/${incident.id}/resolve`, { summary: 'Handled by the simulation' })) {
          if (await command('close', dispatcher, `/api/incidents/${incident.id}/close`, {})) summary.incidentsClosed++;
          incident.done = true;
        }
      }
    }
    for (let i = incidents.length - 1; i >= 0; i--) if (incidents[i]!.done) incidents.splice(i, 1);

    summary.simulatedSeconds = simSeconds - simStart;
    options.onProgress?.({ commands: summary.commands, simulatedSeconds: summary.simulatedSeconds, incidentsOpened: summary.incidentsOpened, incidentsClosed: summary.incidentsClosed, errors: summary.errors });
    const rest = tickMs - (performance.now() - tickStarted);
    if (rest > 0 && !stopped()) await sleep(rest);
  }

  summary.realSeconds = (performance.now() - startedReal) / 1000;
  const dashboard = await api.request('GET', `/api/dashboard?from=${encodeURIComponent(startedAt)}`, { token: await token('admin') });
  if (dashboard.status === 200) {
    summary.kpis = dashboard.body.kpis;
    summary.units = { total: dashboard.body.units.total, busy: dashboard.body.units.busy, utilisation: dashboard.body.units.utilisation };
  }
  return summary;
}
