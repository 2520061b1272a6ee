// Response plans (run cards): for an incident type and priority, which agencies come and with how many units of
// which types. Plain configuration so a city can change it; the incident view applies the plan for the type and
// priority triage settled on, and shows what is still missing.
import { INCIDENT_TYPES, UNIT_TYPES, type Agency, type IncidentType, type Priority, type UnitType } from '../catalog.ts';

export interface UnitRequirement {
  unitType: UnitType;
  count: number;
}

export interface AgencyRequirement {
  agency: Agency;
  units: UnitRequirement[];
}

export interface ResponsePlan {
  /** e.g. "traffic_accident_injuries/P1-2". */
  id: string;
  type: IncidentType;
  agencies: AgencyRequirement[];
}

interface PlanEntry {
  /** Priorities this entry applies to; the first entry that matches wins. */
  priorities: readonly Priority[];
  agencies: Partial<Record<Agency, Partial<Record<UnitType, number>>>>;
}

const ALL: readonly Priority[] = [1, 2, 3, 4, 5];

/** Hand-written plans; types without one get a unit of their agency's first type for each agency they need. */
export const RUN_CARDS: Partial<Record<IncidentType, readonly PlanEntry[]>> = {
  traffic_accident_injuries: [
    { priorities: [1, 2], agencies: { traffic: { traffic_patrol: 1 }, ems: { ambulance: 2 }, fire: { rescue: 1 } } },
    { priorities: [3, 4, 5], agencies: { traffic: { traffic_patrol: 1 }, ems: { ambulance: 1 }, fire: { rescue: 1 } } },
  ],
  traffic_accident: [{ priorities: ALL, agencies: { traffic: { traffic_patrol: 1 } } }],
  fire: [
    { priorities: [1], agencies: { fire: { engine: 2, ladder: 1 }, ems: { ambulance: 1 } } },
    { priorities: [2, 3, 4, 5], agencies: { fire: { engine: 1 }, ems: { ambulance: 1 } } },
  ],
  hazmat: [{ priorities: ALL, agencies: { fire: { engine: 1, rescue: 1 }, safety: { inspection_team: 1 }, ems: { ambulance: 1 }, police: { patrol_car: 1 } } }],
  gas_leak: [{ priorities: ALL, agencies: { fire: { rescue: 1 }, safety: { inspection_team: 1 } } }],
  medical: [
    { priorities: [1], agencies: { ems: { ambulance: 2 } } },
    { priorities: [2, 3, 4, 5], agencies: { ems: { ambulance: 1 } } },
  ],
  crime_in_progress: [{ priorities: ALL, agencies: { police: { patrol_car: 2 } } }],
  flooding: [{ priorities: ALL, agencies: { urban: { enforcement_team: 1 }, fire: { rescue: 1 } } }],
};

function fallbackUnits(agency: Agency): Partial<Record<UnitType, number>> {
  const first = UNIT_TYPES.find((t) => t.agency === agency);
  return first ? { [first.id]: 1 } : {};
}

/** The plan for a type and priority; agencies the type needs but the card forgot still get one unit. */
export function responsePlan(type: IncidentType, priority: Priority): ResponsePlan {
  const info = INCIDENT_TYPES.find((t) => t.id === type);
  const entry = RUN_CARDS[type]?.find((e) => e.priorities.includes(priority));
  const agencies = [...((info?.agencies ?? []) as readonly Agency[])];
  for (const a of Object.keys(entry?.agencies ?? {}) as Agency[]) if (!agencies.includes(a)) agencies.push(a);
  return {
    id: `${type}/P${priority}`,
    type,
    agencies: agencies.map((agency) => ({
      agency,
      units: Object.entries(entry?.agencies[agency] ?? fallbackUnits(agency)).map(([unitType, count]) => ({ unitType: unitType as UnitType, count: count as number })),
    })),
  };
}

/** Every plan, for the configuration endpoint and the web app. */
export function allResponsePlans(): ResponsePlan[] {
  return INCIDENT_TYPES.flatMap((t) => ALL.map((p) => responsePlan(t.id, p)));
}
