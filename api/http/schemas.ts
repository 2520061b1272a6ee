import { Type, type TSchema } from 'typebox';
import { AGENCIES, INCIDENT_SOURCES, INCIDENT_TYPE_IDS, ROLES, UNIT_TYPE_IDS } from '../../domain/index.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';

// Every object schema closes itself: an unknown field is a client bug or a typo, and silently
// dropping it would let "priorty: 1" be accepted as a command that changes nothing.

/** An object that rejects unknown properties. */
export function Closed<P extends Parameters<typeof Type.Object>[0]>(properties: P, options: { description?: string; title?: string } = {}) {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** Ids of incidents, units and users: UUIDs from newId(), or the readable ids a seed may choose. */
export const Id = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$' });

export const IdParams = Closed({ id: Id });
export const IncidentUnitParams = Closed({ id: Id, unitId: Id });

export const Priority = Type.Integer({ minimum: 1, maximum: 5, description: '1 is the most urgent, 5 the least' });
export const AgencyId = Type.Enum([...AGENCIES]);
export const Agencies = Type.Array(AgencyId, { maxItems: AGENCIES.length, uniqueItems: true });
export const IncidentTypeId = Type.Enum([...INCIDENT_TYPE_IDS]);
export const UnitTypeId = Type.Enum([...UNIT_TYPE_IDS]);
export const SourceId = Type.Enum([...INCIDENT_SOURCES]);
export const RoleId = Type.Enum([...ROLES]);

export const Latitude = Type.Number({ minimum: -90, maximum: 90 });
export const Longitude = Type.Number({ minimum: -180, maximum: 180 });
export const Location = Closed({ lat: Latitude, lng: Longitude });

export function Text(maxLength: number, options: { minLength?: number; description?: string } = {}) {
  return Type.String({ maxLength, ...options });
}

export const Timestamp = Type.String({ format: 'date-time' });

/** What every command answers: the aggregate it changed, that stream's revision (also the ETag), and the command id. */
export const CommandResult = Closed({
  id: Id,
  revision: Type.Integer({ minimum: 0 }),
  commandId: Type.String(),
  unitId: Type.Optional(Id),
  unitRevision: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details; extension members (field, state, allowed…) vary by problem type.' },
);

const problemResponse = (description: string) => ({ description, content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } });

/** Error responses for the OpenAPI document; the error handler writes them, so they are documented, not serialised. */
export const PROBLEMS = {
  400: problemResponse('Malformed request: a field is missing, of the wrong type, out of range or not allowed'),
  401: problemResponse('No token, or an expired or invalid one'),
  403: problemResponse('Your role or agency may not do this'),
  404: problemResponse('No such incident or unit'),
  409: problemResponse('Not allowed in the current state (the body names the state and what is allowed), or a conflicting change'),
  412: problemResponse('If-Match does not match the current revision'),
  422: problemResponse('The Idempotency-Key was already used for a different request'),
  429: problemResponse('Too many requests'),
  503: problemResponse('The database cannot be reached; retry after the Retry-After seconds'),
} as const;

export function problems<K extends keyof typeof PROBLEMS>(...codes: K[]): Pick<typeof PROBLEMS, K> {
  return Object.fromEntries(codes.map((c) => [c, PROBLEMS[c]])) as Pick<typeof PROBLEMS, K>;
}

/** Headers a command accepts, for the document (they are read by hand; see idempotency.ts and etag.ts). */
export const CommandHeaders = Type.Object(
  {
    'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Makes the command safe to retry: the same key returns the same result and writes once' })),
    'if-match': Type.Optional(Type.String({ description: 'The ETag ("<revision>") you last saw; 412 if the record has changed since' })),
  },
  { additionalProperties: true },
);
