// Unit recommendation: rank available units by estimated arrival and say why. Pure: travel estimates come in
// from whatever estimator the API uses (straight line by default, a routing service later).
import { UNIT_TYPES, type Agency, type Location, type UnitType } from '../catalog.ts';
import { distanceMeters } from './geo.ts';

export interface RecommendationUnit {
  unitId: string;
  callSign: string;
  agency: Agency;
  unitType: UnitType;
  homeStation: string;
  position: Location | null;
  /** Idle and in service: the only ones that can be recommended. */
  available: boolean;
  /** When the unit last became available (its status' start). */
  availableSince: string | null;
}

export interface TravelEstimate {
  distanceKm: number;
  etaMinutes: number;
}

export interface Recommendation {
  unitId: string;
  callSign: string;
  agency: Agency;
  type: UnitType;
  homeStation: string;
  distanceKm: number;
  etaMinutes: number;
  /** "2.1 km, ~4 min, ambulance, available since 10:02" and, when it applies, what its station loses. */
  reason: string;
  coverage: {
    /** No other available unit of this type would be left at its station. */
    lastAtStation: boolean;
    remainingAtStation: number;
    /** The nearest other available unit of the type to the station (by where this unit waits now). */
    nextNearest: { unitId: string; callSign: string; distanceKm: number } | null;
  };
}

export interface RankInput {
  incidentLocation: Location;
  /** Every unit the city has, so coverage can be judged; only available ones of `neededTypes` are ranked. */
  units: readonly RecommendationUnit[];
  neededTypes: readonly UnitType[];
  estimates: ReadonlyMap<string, TravelEstimate>;
  /** For the "available since" clock time; default Asia/Shanghai (Ji'an). */
  timeZone?: string;
  limit?: number;
}

/** A straight-line estimate: distance times a detour factor, at the unit type's average speed. */
export function straightLineEstimate(from: Location, to: Location, unitType: UnitType, detourFactor = 1.3): TravelEstimate {
  const speed = UNIT_TYPES.find((t) => t.id === unitType)?.speedKmh ?? 40;
  const distanceKm = (distanceMeters(from, to) / 1000) * detourFactor;
  return { distanceKm, etaMinutes: (distanceKm / speed) * 60 };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function clock(iso: string | null, timeZone: string): string | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone }).format(ms);
}

function typeName(unitType: UnitType): string {
  return UNIT_TYPES.find((t) => t.id === unitType)?.en.toLowerCase() ?? unitType;
}

/** Best first: soonest arrival; on a tie, the unit whose leaving strips no station, then call sign. */
export function rankUnits(input: RankInput): Recommendation[] {
  const timeZone = input.timeZone ?? 'Asia/Shanghai';
  const pool = input.units.filter((u) => u.available && u.position !== null);
  const ranked = pool
    .filter((u) => input.neededTypes.includes(u.unitType) && input.estimates.has(u.unitId))
    .map((u): Recommendation => {
      const estimate = input.estimates.get(u.unitId)!;
      const sameType = pool.filter((o) => o.unitId !== u.unitId && o.unitType === u.unitType && o.agency === u.agency);
      const remainingAtStation = sameType.filter((o) => o.homeStation === u.homeStation).length;
      const nearest = sameType
        .filter((o) => o.homeStation !== u.homeStation)
        .map((o) => ({ unitId: o.unitId, callSign: o.callSign, distanceKm: round1(distanceMeters(u.position!, o.position!) / 1000) }))
        .sort((a, b) => a.distanceKm - b.distanceKm || a.callSign.localeCompare(b.callSign))[0];
      const lastAtStation = remainingAtStation === 0;
      const distanceKm = round1(estimate.distanceKm);
      const etaMinutes = round1(estimate.etaMinutes);
      const since = clock(u.availableSince, timeZone);
      const parts = [`${distanceKm.toFixed(1)} km`, `~${Math.max(1, Math.ceil(estimate.etaMinutes))} min`, typeName(u.unitType)];
      if (since) parts.push(`available since ${since}`);
      let reason = parts.join(', ');
      if (lastAtStation) {
        reason += nearest
          ? `; last available ${typeName(u.unitType)} at ${u.homeStation}: its area would be covered from ${nearest.callSign}, ${nearest.distanceKm.toFixed(1)} km away`
          : `; last available ${typeName(u.unitType)} at ${u.homeStation}, and no other is available: its area would be left without cover`;
      } else {
        reason += `; ${remainingAtStation} more at ${u.homeStation}`;
      }
      return {
        unitId: u.unitId,
        callSign: u.callSign,
        agency: u.agency,
        type: u.unitType,
        homeStation: u.homeStation,
        distanceKm,
        etaMinutes,
        reason,
        coverage: { lastAtStation, remainingAtStation, nextNearest: nearest ?? null },
      };
    })
    .sort(
      (a, b) =>
        input.estimates.get(a.unitId)!.etaMinutes - input.estimates.get(b.unitId)!.etaMinutes ||
        Number(a.coverage.lastAtStation) - Number(b.coverage.lastAtStation) ||
        a.callSign.localeCompare(b.callSign),
    );
  return input.limit === undefined ? ranked : ranked.slice(0, input.limit);
}
