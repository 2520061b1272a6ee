import { INCIDENT_EVENT_VERSIONS, type IncidentEvent } from './incident/incident.events.ts';
import { UNIT_EVENT_VERSIONS, type UnitEvent } from './unit/unit.events.ts';

export type DomainEvent = IncidentEvent | UnitEvent;
export type DomainEventType = DomainEvent['type'];
export type DomainEventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

export const EVENT_SCHEMA_VERSIONS: Readonly<Record<DomainEventType, number>> = { ...INCIDENT_EVENT_VERSIONS, ...UNIT_EVENT_VERSIONS };

export function isDomainEventType(type: string): type is DomainEventType {
  return Object.hasOwn(EVENT_SCHEMA_VERSIONS, type);
}

export function isIncidentEvent(event: DomainEvent): event is IncidentEvent {
  return Object.hasOwn(INCIDENT_EVENT_VERSIONS, event.type);
}

export function isUnitEvent(event: DomainEvent): event is UnitEvent {
  return Object.hasOwn(UNIT_EVENT_VERSIONS, event.type);
}

/** The schema version new events of this type are written with. */
export function currentSchemaVersion(type: string): number {
  if (!isDomainEventType(type)) throw new Error(`Unknown event type ${JSON.stringify(type)}: no schema version is defined for it.`);
  return EVENT_SCHEMA_VERSIONS[type];
}

export const INCIDENT_STREAM_PREFIX = 'incident-';
export const UNIT_STREAM_PREFIX = 'unit-';

export function incidentStream(incidentId: string): string {
  return INCIDENT_STREAM_PREFIX + incidentId;
}

export function unitStream(unitId: string): string {
  return UNIT_STREAM_PREFIX + unitId;
}

/** Which aggregate a stream holds; null for streams the domain does not own. */
export function parseStream(stream: string): { category: 'incident' | 'unit'; id: string } | null {
  if (stream.startsWith(INCIDENT_STREAM_PREFIX) && stream.length > INCIDENT_STREAM_PREFIX.length) {
    return { category: 'incident', id: stream.slice(INCIDENT_STREAM_PREFIX.length) };
  }
  if (stream.startsWith(UNIT_STREAM_PREFIX) && stream.length > UNIT_STREAM_PREFIX.length) {
    return { category: 'unit', id: stream.slice(UNIT_STREAM_PREFIX.length) };
  }
  return null;
}
