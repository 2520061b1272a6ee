import {
  AGENCIES,
  INCIDENT_SOURCES,
  INCIDENT_TYPE_IDS,
  PRIORITIES,
  type Agency,
  type IncidentSource,
  type IncidentType,
  type Location,
  type Priority,
} from './catalog.ts';
import { DomainError } from './errors.ts';

// Commands are typed, but they arrive as JSON: every rule re-checks the runtime shape so a value the
// type system never saw (a string priority, a NaN latitude) is refused here, not stored forever.

export function invalid(field: string, message: string, details: Record<string, unknown> = {}): never {
  throw new DomainError('invalid_payload', message, { field, ...details });
}

export interface TextRule {
  /** How the field is named to a person, e.g. "A note". */
  label: string;
  max: number;
  required: boolean;
}

/** Trimmed text, or undefined when optional and absent/blank. */
export function checkText(field: string, value: unknown, rule: TextRule): string | undefined {
  if (value === undefined || value === null) {
    if (rule.required) invalid(field, `${rule.label} is required.`);
    return undefined;
  }
  if (typeof value !== 'string') invalid(field, `${rule.label} must be text.`);
  const text = value.trim();
  if (text.length === 0) {
    if (rule.required) invalid(field, `${rule.label} must not be blank.`);
    return undefined;
  }
  if (text.length > rule.max) invalid(field, `${rule.label} is ${text.length} characters long; at most ${rule.max} are allowed.`, { max: rule.max });
  return text;
}

export function requireText(field: string, value: unknown, label: string, max: number): string {
  return checkText(field, value, { label, max, required: true }) as string;
}

export function optionalText(field: string, value: unknown, label: string, max: number): string | undefined {
  return checkText(field, value, { label, max, required: false });
}

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'number' && (PRIORITIES as readonly number[]).includes(value);
}

export function requirePriority(value: unknown, field = 'priority'): Priority {
  if (!isPriority(value)) invalid(field, `Priority must be a whole number from 1 (most urgent) to 5; got ${JSON.stringify(value)}.`);
  return value;
}

export function isIncidentType(value: unknown): value is IncidentType {
  return typeof value === 'string' && (INCIDENT_TYPE_IDS as readonly string[]).includes(value);
}

export function requireIncidentType(value: unknown, field = 'type'): IncidentType {
  if (!isIncidentType(value)) invalid(field, `Unknown incident type ${JSON.stringify(value)}; known types: ${INCIDENT_TYPE_IDS.join(', ')}.`);
  return value;
}

export function isAgency(value: unknown): value is Agency {
  return typeof value === 'string' && (AGENCIES as readonly string[]).includes(value);
}

export function requireAgency(value: unknown, field = 'agency'): Agency {
  if (!isAgency(value)) invalid(field, `Unknown agency ${JSON.stringify(value)}; known agencies: ${AGENCIES.join(', ')}.`);
  return value;
}

export function requireAgencies(value: unknown, field = 'agencies'): Agency[] {
  if (!Array.isArray(value)) invalid(field, 'Agencies must be a list.');
  return value.map((a, i) => requireAgency(a, `${field}[${i}]`));
}

export function requireSource(value: unknown, field = 'source'): IncidentSource {
  if (typeof value !== 'string' || !(INCIDENT_SOURCES as readonly string[]).includes(value)) {
    invalid(field, `Unknown source ${JSON.stringify(value)}; known sources: ${INCIDENT_SOURCES.join(', ')}.`);
  }
  return value as IncidentSource;
}

export function requireLocation(value: unknown, field = 'location'): Location {
  const loc = value as Partial<Location> | null | undefined;
  if (typeof loc !== 'object' || loc === null) invalid(field, 'A location with lat and lng is required.');
  const { lat, lng } = loc;
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
    invalid(`${field}.lat`, `Latitude must be a number from -90 to 90; got ${JSON.stringify(lat)}.`);
  }
  if (typeof lng !== 'number' || !Number.isFinite(lng) || lng < -180 || lng > 180) {
    invalid(`${field}.lng`, `Longitude must be a number from -180 to 180; got ${JSON.stringify(lng)}.`);
  }
  return { lat, lng };
}

export function optionalNumber(field: string, value: unknown, label: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    invalid(field, `${label} must be a number from ${min} to ${max}; got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** Union that keeps first-seen order, so the type's lead agency stays first. */
export function unionAgencies(...lists: ReadonlyArray<readonly Agency[] | undefined>): Agency[] {
  const out: Agency[] = [];
  for (const list of lists) for (const a of list ?? []) if (!out.includes(a)) out.push(a);
  return out;
}

/** "a", "a or b", "a, b or c" — for sentences that list choices. */
export function listWords(words: readonly string[], conjunction = 'or'): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}

/** Drops undefined members so stored payloads hold only what was said. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
