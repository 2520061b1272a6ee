// How long a unit takes to reach a place. The recommendation ranks by this; a real routing service can replace
// the straight-line estimator by implementing the same interface.
import { straightLineEstimate, type Location, type TravelEstimate, type UnitType } from '../../domain/index.ts';

export interface TravelRequest {
  unitId: string;
  from: Location;
  unitType: UnitType;
}

export interface TravelTimeEstimator {
  readonly name: string;
  /** Estimates for every request it can answer; a unit missing from the answer is not ranked. */
  estimate(requests: readonly TravelRequest[], to: Location): Promise<Map<string, TravelEstimate>>;
}

/** Distance as the crow flies times a detour factor, at the unit type's average speed (domain/catalog.ts). */
export function straightLineEstimator(detourFactor = 1.3): TravelTimeEstimator {
  return {
    name: `straight line ×${detourFactor}`,
    estimate: async (requests, to) => new Map(requests.map((r) => [r.unitId, straightLineEstimate(r.from, to, r.unitType, detourFactor)])),
  };
}
