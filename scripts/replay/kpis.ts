// The dashboard's figures computed straight from the file, to set beside what the system says.
import { durationKpi, type DurationKpi } from '../lib/stats.ts';
import { incidentTypeOf, type SfCall, type SfUnitResponse } from './sfCalls.ts';

export interface ReplayKpis {
  countsByType: Record<string, number>;
  receivedToDispatch: DurationKpi;
  receivedToOnScene: DurationKpi;
}

/**
 * When a unit reached the scene: its On Scene time, or (when that was not logged) its transport or hospital
 * time, which it cannot have reached without being there. The incident machine counts the same way.
 */
export function reachedScene(unit: SfUnitResponse): number | undefined {
  return unit.onScene ?? unit.transport ?? unit.hospital;
}

const earliest = (times: Array<number | undefined>): number | undefined => {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
};

/**
 * Per call: received → the first unit's dispatch, and received → the first unit on scene. Calls without a
 * dispatched (or arrived) unit do not count towards that figure, as on the dashboard.
 */
export function kpisFromCalls(calls: readonly SfCall[]): ReplayKpis {
  const countsByType: Record<string, number> = {};
  const toDispatch: number[] = [];
  const toScene: number[] = [];
  for (const call of calls) {
    const type = incidentTypeOf(call.callType);
    countsByType[type] = (countsByType[type] ?? 0) + 1;
    const dispatched = earliest(call.units.map((u) => u.dispatch));
    if (dispatched !== undefined) toDispatch.push((dispatched - call.received) / 1000);
    const arrived = earliest(call.units.filter((u) => u.dispatch !== undefined).map(reachedScene));
    if (arrived !== undefined) toScene.push((arrived - call.received) / 1000);
  }
  return {
    countsByType: Object.fromEntries(Object.entries(countsByType).sort(([a], [b]) => a.localeCompare(b))),
    receivedToDispatch: durationKpi(toDispatch),
    receivedToOnScene: durationKpi(toScene),
  };
}
