// Likely duplicates: a report near an open incident of a compatible type, close in time. Pure: the API feeds it
// the candidates it read and says what "near" and "close" mean.
import type { IncidentType, Location } from '../catalog.ts';
import { distanceMeters } from './geo.ts';

export interface DuplicateRules {
  /** How far apart two reports of one incident can be. */
  distanceM: number;
  /** How far apart in time, either way. */
  windowMinutes: number;
  /** Types that can describe the same event; a type is always compatible with itself. */
  compatible: ReadonlyArray<readonly IncidentType[]>;
}

export const DEFAULT_DUPLICATE_RULES: DuplicateRules = {
  distanceM: 300,
  windowMinutes: 30,
  compatible: [
    ['traffic_accident', 'traffic_accident_injuries', 'traffic_congestion'],
    ['fire', 'fire_alarm' as IncidentType, 'gas_leak', 'hazmat'],
    ['medical', 'traffic_accident_injuries'],
    ['public_order', 'crime_in_progress'],
    ['illegal_construction', 'urban_management'],
    ['flooding', 'water_rescue' as IncidentType],
  ],
};

export interface DuplicateSubject {
  id: string;
  type: string;
  location: Location;
  reportedAt: string;
}

export interface DuplicateCandidate extends DuplicateSubject {
  /** Only open incidents can absorb a duplicate. */
  open: boolean;
}

export interface LikelyDuplicate {
  id: string;
  distanceM: number;
  minutesApart: number;
}

/** How many likely duplicates a dispatcher is shown: the nearest ones (a storm of calls about one fire is one list, not hundreds). */
export const DUPLICATES_SHOWN = 10;

/** Every type that can describe the same event as `type`, itself included. */
export function typesCompatibleWith(type: string, rules: DuplicateRules = DEFAULT_DUPLICATE_RULES): string[] {
  const types = new Set<string>([type]);
  for (const group of rules.compatible) if ((group as readonly string[]).includes(type)) for (const t of group) types.add(t);
  return [...types];
}

export function compatibleTypes(a: string, b: string, rules: DuplicateRules = DEFAULT_DUPLICATE_RULES): boolean {
  if (a === b) return true;
  return rules.compatible.some((group) => (group as readonly string[]).includes(a) && (group as readonly string[]).includes(b));
}

/** Open incidents within the distance and the time window of `subject`, of a compatible type; nearest first. */
export function findDuplicates(subject: DuplicateSubject, candidates: readonly DuplicateCandidate[], rules: DuplicateRules = DEFAULT_DUPLICATE_RULES): LikelyDuplicate[] {
  const at = Date.parse(subject.reportedAt);
  return candidates
    .filter((c) => c.id !== subject.id && c.open && compatibleTypes(subject.type, c.type, rules))
    .map((c) => ({
      id: c.id,
      distanceM: Math.round(distanceMeters(subject.location, c.location)),
      minutesApart: Math.round((Math.abs(at - Date.parse(c.reportedAt)) / 60_000) * 10) / 10,
    }))
    .filter((d) => d.distanceM <= rules.distanceM && d.minutesApart <= rules.windowMinutes)
    .sort((a, b) => a.distanceM - b.distanceM || a.minutesApart - b.minutesApart || a.id.localeCompare(b.id));
}
