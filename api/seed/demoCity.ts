import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { nameBasedId } from '../../eventstore/eventIds.ts';
import { unitStream, type Agency, type CommandMeta, type Location, type Role, type UnitType } from '../../domain/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { createUser, findUserByUsername } from '../auth/users.ts';
import { incidents, units } from '../commands/aggregates.ts';
import { assignUnit, changeUnitStatus } from '../commands/assignUnit.ts';
import { handleCommand } from '../commands/commandHandler.ts';
import { DEMO_INCIDENTS, type DemoIncident } from './demoIncidents.ts';
import { DEMO_USERS } from './demoUsers.ts';
import { DEMO_STATIONS, type DemoStation } from './jianStations.ts';

export { DEMO_USERS, DEMO_PASSWORD, type DemoUser } from './demoUsers.ts';

/** Fixed forever: unit, incident and command ids derive from it, so a second seed finds its own first one. */
const SEED_NAMESPACE = '0f6f3b8e-2d5c-4c1a-9e47-7a1b2c3d4e5f';

const seedId = (name: string): string => nameBasedId(name, SEED_NAMESPACE);

// Keeps jittered positions on the real city area even near its edge.
const BOUNDS = { minLat: 27.05, maxLat: 27.16, minLng: 114.9, maxLng: 115.06 };

// Units that patrol are spread over their station's area; the rest wait at the station.
const PATROLLING: readonly UnitType[] = ['patrol_car', 'traffic_patrol', 'motorcycle', 'enforcement_team'];

export interface DemoUnit {
  unitId: string;
  callSign: string;
  agency: Agency;
  unitType: UnitType;
  homeStation: string;
  position: Location;
}

export interface SeedResult {
  /** True when units already existed: the city was left as it was. */
  skipped: boolean;
  usersCreated: number;
  unitsRegistered: number;
  incidentsReported: number;
}

/** Two numbers in [-1, 1) fixed by the name, so every seed puts a unit in the same place. */
function offsets(name: string): [number, number] {
  const digest = createHash('sha256').update(name).digest();
  return [digest.readUInt16BE(0) / 32768 - 1, digest.readUInt16BE(2) / 32768 - 1];
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function stationUnits(station: DemoStation): DemoUnit[] {
  const out: DemoUnit[] = [];
  for (const spec of station.units) {
    for (let n = 1; n <= spec.count; n++) {
      const callSign = `${spec.prefix}-${station.code}-${String(n).padStart(2, '0')}`;
      const [dLat, dLng] = offsets(callSign);
      // About 2.5 km for patrols, 100 m (the yard) for the rest.
      const spread = PATROLLING.includes(spec.type) ? 0.022 : 0.0009;
      out.push({
        unitId: seedId(`unit:${callSign}`),
        callSign,
        agency: station.agency,
        unitType: spec.type,
        homeStation: `${station.zh} ${station.en}`,
        position: {
          lat: Number(clamp(station.position.lat + dLat * spread, BOUNDS.minLat, BOUNDS.maxLat).toFixed(5)),
          lng: Number(clamp(station.position.lng + dLng * spread, BOUNDS.minLng, BOUNDS.maxLng).toFixed(5)),
        },
      });
    }
  }
  return out;
}

/** Every demo unit, in registration order. */
export const DEMO_UNITS: readonly DemoUnit[] = DEMO_STATIONS.flatMap(stationUnits);

export function demoIncidentId(incident: Pick<DemoIncident, 'key'>): string {
  return seedId(`incident:${incident.key}`);
}

interface Actor {
  id: string;
  role: Role;
  agency: Agency;
}

/**
 * Seeds the demo city of Ji'an: demo users (password "demo"), ~46 units of every agency at named stations,
 * and a handful of open incidents at different stages. Does nothing to the city if any unit exists (a real
 * deployment, or an earlier seed); every id is derived from a fixed name, so even a repeated seed racing
 * another writes nothing new.
 */
export async function seedDemoCity({ store, sql, now = () => new Date() }: { store: EventStore; sql: Sql; now?: () => Date }): Promise<SeedResult> {
  const result: SeedResult = { skipped: false, usersCreated: 0, unitsRegistered: 0, incidentsReported: 0 };

  const actors = new Map<string, Actor>();
  for (const demo of DEMO_USERS) {
    const existing = await findUserByUsername(sql, demo.username);
    if (existing) {
      actors.set(demo.username, existing);
      continue;
    }
    actors.set(demo.username, await createUser(sql, demo, { ifExists: 'keep' }));
    result.usersCreated++;
  }

  // A city that has units already is not ours to seed. The demo's own first unit is looked up by its stream,
  // which is read-your-writes; the global log may still hold a just-committed unit behind its read horizon.
  const seededBefore = (await store.readStream(unitStream(DEMO_UNITS[0]!.unitId), { maxCount: 1 })).length > 0;
  const anyUnit = seededBefore || (await store.readAll({ streamPrefixes: [unitStream('')], maxCount: 1 })).length > 0;
  if (anyUnit) return { ...result, skipped: true };

  const system = { actor: 'system', role: 'admin' as const };
  const start = now().getTime();
  for (const unit of DEMO_UNITS) {
    const { unitId, agency, callSign, unitType, homeStation, position } = unit;
    const registered = await handleCommand(
      store,
      units,
      unitId,
      { type: 'RegisterUnit', data: { unitId, agency, callSign, unitType, homeStation, position } },
      { ...system, agency, commandId: seedId(`register:${callSign}`), occurredAt: new Date(start - 3 * 3600_000).toISOString() },
    );
    if (registered.written) result.unitsRegistered++;
  }

  const unitByCallSign = new Map(DEMO_UNITS.map((u) => [u.callSign, u]));
  for (const [index, incident] of DEMO_INCIDENTS.entries()) {
    // Reported between 45 and 5 minutes ago, each step two minutes after the last, so the dashboard's
    // times to dispatch and to arrive are plausible.
    const reportedAt = start - (45 - index * 9) * 60_000;
    if (await seedIncident(store, incident, reportedAt, actors, unitByCallSign)) result.incidentsReported++;
  }
  return result;
}

async function seedIncident(
  store: EventStore,
  incident: DemoIncident,
  reportedAt: number,
  actors: Map<string, Actor>,
  unitByCallSign: Map<string, DemoUnit>,
): Promise<boolean> {
  const incidentId = demoIncidentId(incident);
  const metaFor = (username: string, step: number): CommandMeta => {
    const actor = actors.get(username);
    if (!actor) throw new Error(`Demo incident ${incident.key} names unknown demo user ${username}.`);
    return {
      commandId: seedId(`${incident.key}:${step}`),
      actor: actor.id,
      role: actor.role,
      agency: actor.agency,
      correlationId: incidentId,
      occurredAt: new Date(reportedAt + step * 120_000).toISOString(),
    };
  };
  const unitOf = (callSign: string): DemoUnit => {
    const unit = unitByCallSign.get(callSign);
    if (!unit) throw new Error(`Demo incident ${incident.key} names unknown demo unit ${callSign}.`);
    return unit;
  };

  const { type, priority, location, address, description, source } = incident;
  const reported = await handleCommand(
    store,
    incidents,
    incidentId,
    { type: 'ReportIncident', data: { incidentId, type, priority, location, address, description, source } },
    metaFor(incident.reportedBy, 0),
  );
  for (const [index, step] of incident.steps.entries()) {
    const meta = metaFor(step.by, index + 1);
    switch (step.do) {
      case 'triage':
        await handleCommand(store, incidents, incidentId, { type: 'TriageIncident', data: {} }, meta);
        break;
      case 'assign':
        await assignUnit(store, { incidentId, unitId: unitOf(step.callSign).unitId }, meta);
        break;
      case 'status':
        await changeUnitStatus(store, { incidentId, unitId: unitOf(step.callSign).unitId, status: step.status }, meta);
        break;
    }
  }
  return reported.written;
}
