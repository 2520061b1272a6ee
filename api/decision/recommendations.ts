import type { Sql } from 'postgres';
import { rankUnits, UNIT_TYPES, type Agency, type Recommendation, type RecommendationUnit, type UnitType } from '../../domain/index.ts';
import type { IncidentItem } from '../read/shapes.ts';
import { listUnits } from '../read/unitQueries.ts';
import type { TravelTimeEstimator } from './travelTime.ts';

/** The unit types to look for: what the plan still misses for the agency, else what it asks for, else all of the agency's. */
export function neededTypes(incident: IncidentItem, agency: Agency): UnitType[] {
  const leg = incident.legs.find((l) => l.agency === agency);
  const missing = leg?.missing.map((m) => m.unitType as UnitType) ?? [];
  if (missing.length > 0) return missing;
  const required = leg?.required.map((m) => m.unitType as UnitType) ?? [];
  if (required.length > 0) return required;
  return UNIT_TYPES.filter((t) => t.agency === agency).map((t) => t.id);
}

export async function recommendUnits(
  sql: Sql,
  estimator: TravelTimeEstimator,
  incident: IncidentItem,
  agencies: readonly Agency[],
  options: { limit?: number; timeZone?: string } = {},
): Promise<Recommendation[]> {
  const all = await listUnits(sql);
  const units: RecommendationUnit[] = all.map((u) => ({
    unitId: u.id,
    callSign: u.callSign,
    agency: u.agency as Agency,
    unitType: u.type as UnitType,
    homeStation: u.homeStation,
    position: u.position,
    available: u.readiness === 'available' && u.status === 'idle',
    availableSince: u.statusSince || null,
  }));
  const types = agencies.flatMap((a) => neededTypes(incident, a));
  const candidates = units.filter((u) => u.available && u.position !== null && agencies.includes(u.agency) && types.includes(u.unitType));
  const estimates = await estimator.estimate(
    candidates.map((u) => ({ unitId: u.unitId, from: u.position!, unitType: u.unitType })),
    incident.location,
  );
  return rankUnits({
    incidentLocation: incident.location,
    units: units.filter((u) => agencies.includes(u.agency)),
    neededTypes: types,
    estimates,
    ...(options.timeZone !== undefined && { timeZone: options.timeZone }),
    ...(options.limit !== undefined && { limit: options.limit }),
  });
}
