// Reads from the read models (incident_board, unit_board, event_log): fast, and a moment behind the streams.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import { incidentLabel } from '../../domain/index.ts';
import { authenticate, requireVisibleIncident } from '../auth/guards.ts';
import { etagFor } from '../http/etag.ts';
import { badRequest, notFound } from '../http/problem.ts';
import { AgencyId, Closed, IdParams, IncidentTypeId, problems } from '../http/schemas.ts';
import { HistoryEntry } from '../read/history.ts';
import { incidentHistory } from '../read/history.ts';
import { findIncident, listIncidents } from '../read/incidentQueries.ts';
import { IncidentItem, UnitItem } from '../read/shapes.ts';
import { findUnit, listUnits } from '../read/unitQueries.ts';

export interface QueryPluginOptions {
  sql: Sql;
}

const INCIDENT_STATUSES = ['reported', 'triaged', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled'];
const UNIT_STATUSES = ['idle', 'dispatched', 'en_route', 'on_scene', 'transporting', 'at_hospital'];
const MAX_PAGE_SIZE = 500;

const IncidentListQuery = Closed({
  status: Type.Optional(Type.String({ pattern: `^(${INCIDENT_STATUSES.join('|')})(,(${INCIDENT_STATUSES.join('|')}))*$`, description: 'Comma-separated statuses' })),
  agency: Type.Optional(AgencyId),
  priority: Type.Optional(Type.String({ pattern: '^[1-5](,[1-5])*$', description: 'One priority or a comma-separated list, e.g. 1,2' })),
  type: Type.Optional(IncidentTypeId),
  bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLng,minLat,maxLng,maxLat' })),
  updatedSince: Type.Optional(Type.String({ format: 'date-time' })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
});

const IncidentList = Closed({
  items: Type.Array(IncidentItem),
  total: Type.Integer(),
  page: Type.Integer(),
  pageSize: Type.Integer(),
});

const UnitListQuery = Closed({
  agency: Type.Optional(AgencyId),
  readiness: Type.Optional(Type.Enum(['available', 'out_of_service'])),
  status: Type.Optional(Type.String({ pattern: `^(${UNIT_STATUSES.join('|')})(,(${UNIT_STATUSES.join('|')}))*$` })),
});

const security = [{ bearerAuth: [] }];

function parseBbox(raw: string): { minLng: number; minLat: number; maxLng: number; maxLat: number } {
  const parts = raw.split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
  const [minLng, minLat, maxLng, maxLat] = parts as [number, number, number, number];
  const valid =
    parts.length === 4 &&
    parts.every(Number.isFinite) &&
    minLng >= -180 && maxLng <= 180 && minLat >= -90 && maxLat <= 90 && minLng <= maxLng && minLat <= maxLat;
  if (!valid) {
    throw badRequest(`The query parameter 'bbox' must be minLng,minLat,maxLng,maxLat with longitudes in -180..180, latitudes in -90..90 and each minimum at most its maximum; got ${JSON.stringify(raw)}.`, { field: 'bbox' });
  }
  return { minLng, minLat, maxLng, maxLat };
}

/** 304 when the client already holds this revision. */
function notModified(request: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  reply.header('etag', etag);
  const held = request.headers['if-none-match'];
  if (held === undefined) return false;
  const tags = held.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(etag) && !tags.includes('*')) return false;
  reply.code(304).send();
  return true;
}

const queries: FastifyPluginAsync<QueryPluginOptions> = async (fastify, { sql }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', authenticate);

  app.get(
    '/api/incidents',
    {
      schema: {
        tags: ['incidents'],
        summary: 'List incidents, most urgent first (dispatchers and supervisors see their agency’s)',
        security,
        querystring: IncidentListQuery,
        response: { 200: IncidentList, ...problems(400, 401, 429, 503) },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.page !== undefined && q.offset !== undefined) throw badRequest("Use either 'page'/'pageSize' or 'limit'/'offset', not both.", { field: 'offset' });
      const pageSize = q.pageSize ?? q.limit ?? 50;
      const offset = q.offset ?? ((q.page ?? 1) - 1) * pageSize;
      const { items, total } = await listIncidents(sql, request.user, {
        ...(q.status !== undefined && { statuses: q.status.split(',') }),
        ...(q.agency !== undefined && { agency: q.agency }),
        ...(q.priority !== undefined && { priorities: q.priority.split(',').map(Number) }),
        ...(q.type !== undefined && { type: q.type }),
        ...(q.bbox !== undefined && { bbox: parseBbox(q.bbox) }),
        ...(q.updatedSince !== undefined && { updatedSince: q.updatedSince }),
        limit: pageSize,
        offset,
      });
      return { items, total, page: Math.floor(offset / pageSize) + 1, pageSize };
    },
  );

  app.get(
    '/api/incidents/:id',
    {
      schema: {
        tags: ['incidents'],
        summary: 'One incident as the board shows it; ETag is its revision',
        security,
        params: IdParams,
        response: { 200: IncidentItem, 304: Type.Null({ description: 'Not modified (If-None-Match)' }), ...problems(401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const incident = await findIncident(sql, request.params.id);
      if (!incident) throw notFound(`There is no incident ${incidentLabel(request.params.id)} (${request.params.id}).`, { incidentId: request.params.id });
      requireVisibleIncident(request.user, incident.id, incident.agencies);
      if (notModified(request, reply, etagFor(incident.revision))) return reply;
      return incident;
    },
  );

  app.get(
    '/api/incidents/:id/history',
    {
      schema: {
        tags: ['incidents'],
        summary: "Every event of the incident and of its units' work on it, in log order, with who, when and why",
        security,
        params: IdParams,
        response: { 200: Type.Array(HistoryEntry), ...problems(401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const incident = await findIncident(sql, request.params.id);
      if (!incident) throw notFound(`There is no incident ${incidentLabel(request.params.id)} (${request.params.id}).`, { incidentId: request.params.id });
      requireVisibleIncident(request.user, incident.id, incident.agencies);
      return incidentHistory(sql, incident.id);
    },
  );

  app.get(
    '/api/units',
    {
      schema: {
        tags: ['units'],
        summary: 'Every unit with its readiness, assignment and last position',
        security,
        querystring: UnitListQuery,
        response: { 200: Type.Array(UnitItem), ...problems(400, 401, 429, 503) },
      },
    },
    async (request) => {
      const q = request.query;
      return listUnits(sql, {
        ...(q.agency !== undefined && { agency: q.agency }),
        ...(q.readiness !== undefined && { readiness: q.readiness }),
        ...(q.status !== undefined && { statuses: q.status.split(',') }),
      });
    },
  );

  app.get(
    '/api/units/:id',
    {
      schema: {
        tags: ['units'],
        summary: 'One unit; ETag is its revision',
        security,
        params: IdParams,
        response: { 200: UnitItem, 304: Type.Null({ description: 'Not modified (If-None-Match)' }), ...problems(401, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const unit = await findUnit(sql, request.params.id);
      if (!unit) throw notFound(`There is no unit ${request.params.id}.`, { unitId: request.params.id });
      if (notModified(request, reply, etagFor(unit.revision))) return reply;
      return unit;
    },
  );
};

export default queries;
