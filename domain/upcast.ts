import { EVENT_SCHEMA_VERSIONS, isDomainEventType, type DomainEvent, type DomainEventOf, type DomainEventType } from './events.ts';

/** A stored payload that cannot be brought to the current schema: the reader is older than the writer, or the data is corrupt. */
export class UpcastError extends Error {
  override readonly name = 'UpcastError';
}

type Payload = Record<string, unknown>;
type Upcaster = (data: Payload) => Payload;

/** UPCASTERS[type][v] turns a version-v payload into version v+1; chained until the current version. */
const UPCASTERS: Partial<Record<DomainEventType, Readonly<Record<number, Upcaster>>>> = {
  IncidentReported: {
    // v1 stored flat lat/lng; v2 groups them as `location` like every other position in the domain.
    1: ({ lat, lng, ...rest }) => {
      if (typeof lat !== 'number' || typeof lng !== 'number') {
        throw new UpcastError(`IncidentReported v1 payload has no numeric lat/lng: ${JSON.stringify({ lat, lng })}.`);
      }
      return { ...rest, location: { lat, lng } };
    },
  },
};

/**
 * Brings a stored payload to the current schema version of its type. Events written before versions were
 * recorded count as version 1. Types the domain does not define pass through untouched.
 */
export function upcast<T extends DomainEventType>(type: T, schemaVersion: number | undefined, data: unknown): DomainEventOf<T>['data'];
export function upcast(type: string, schemaVersion: number | undefined, data: unknown): unknown;
export function upcast(type: string, schemaVersion: number | undefined, data: unknown): unknown {
  if (!isDomainEventType(type)) return data;
  const current = EVENT_SCHEMA_VERSIONS[type];
  const from = schemaVersion ?? 1;
  if (!Number.isInteger(from) || from < 1) throw new UpcastError(`${type} has an invalid schema version ${JSON.stringify(schemaVersion)}.`);
  if (from > current) {
    throw new UpcastError(`${type} v${from} was written by a newer version of the application (this one reads up to v${current}); upgrade before reading it.`);
  }
  let payload = data as Payload;
  for (let version = from; version < current; version++) {
    const step = UPCASTERS[type]?.[version];
    if (!step) throw new UpcastError(`No upcaster for ${type} from v${version} to v${version + 1}.`);
    if (typeof payload !== 'object' || payload === null) throw new UpcastError(`${type} v${version} payload is not an object.`);
    payload = step(payload);
  }
  return payload;
}

/** A stored record read back as a current-version domain event. */
export function upcastEvent(stored: { type: string; data: unknown; schemaVersion?: number }): DomainEvent {
  if (!isDomainEventType(stored.type)) throw new UpcastError(`Unknown event type ${JSON.stringify(stored.type)}.`);
  return { type: stored.type, data: upcast(stored.type, stored.schemaVersion, stored.data) } as DomainEvent;
}
