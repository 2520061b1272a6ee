// Time travel: GET /api/incidents/:id/state?at= and GET /api/city?at=. The projector keeping
// time_travel_states runs with the app (see api/audit/timeTravel.ts).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import { incidentLabel } from '../../domain/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { allowRoles, authenticate, requireVisibleIncident } from '../auth/guards.ts';
import type { PersonalDataVault } from '../audit/personalData.ts';
import { cityAtJson, incidentStateAt, projectedThrough, TimeTravelProjector } from '../audit/timeTravel.ts';
import { badRequest, notFound } from '../http/problem.ts';
import { Closed, IdParams, Nullable, problems } from '../http/schemas.ts';

export interface TimeTravelOptions {
  sql: Sql;
  /** The store as commands see it (personal data opened): folds of a single stream read it. */
  store: EventStore;
  /** The store as stored (personal data sealed): the read model is built from it, so it never holds plain text. */
  rawStore: EventStore;
  vault: PersonalDataVault;
  /** Run the projector in this process (default true). */
  project?: boolean;
}

const security = [{ bearerAuth: [] }];
const AtQuery = Closed({ at: Type.String({ format: 'date-time', description: 'The moment, ISO 8601 with a time zone, e.g. 2026-03-01T08:30:00Z' }) });

function parseAt(raw: string): Date {
  const at = new Date(raw);
  if (Number.isNaN(at.getTime())) throw badRequest(`The query parameter 'at' must be a date and time such as 2026-03-01T08:30:00Z; got ${JSON.stringify(raw)}.`, { field: 'at' });
  return at;
}

const timeTravel: FastifyPluginAsync<TimeTravelOptions> = async (fastify, options) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { sql, store, vault } = options;

  if (options.project !== false) {
    const projector = new TimeTravelProjector(options.rawStore, sql, (error) => app.log.error({ err: error }, 'the time travel projector failed; it starts again from its checkpoint'));
    app.addHook('onReady', () => projector.start());
    app.addHook('onClose', () => projector.stop());
  }

  app.get(
    '/api/incidents/:id/state',
    {
      onRequest: authenticate,
      schema: {
        tags: ['audit'],
        summary: 'The incident as it stood at a past moment: its events up to then, folded',
        security,
        params: IdParams,
        querystring: AtQuery,
        response: {
          200: Closed({
            at: Type.String({ format: 'date-time' }),
            revision: Type.Integer({ description: 'The last event folded in' }),
            source: Type.String({ description: 'snapshot (the read model) or stream (folded from the store)' }),
            incident: Type.Unknown(),
          }),
          ...problems(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const at = parseAt(request.query.at);
      const state = await incidentStateAt(sql, store, vault, id, at);
      if (!state.view) {
        throw notFound(`Incident ${incidentLabel(id)} (${id}) did not exist at ${at.toISOString()}.`, { incidentId: id, at: at.toISOString() });
      }
      requireVisibleIncident(request.user, id, state.view.agencies);
      return { at: at.toISOString(), revision: state.revision, source: state.source, incident: state.view };
    },
  );

  app.get(
    '/api/city',
    {
      onRequest: allowRoles(['auditor', 'admin'], 'see the whole city at a past moment'),
      schema: {
        tags: ['audit'],
        summary: 'Every incident and unit as they stood at a past moment (personal data left out)',
        security,
        querystring: AtQuery,
        response: {
          200: Closed({
            at: Type.String({ format: 'date-time' }),
            projectedThrough: Nullable(Type.String({ format: 'date-time', description: 'Business time of the newest event the read model holds' })),
            incidents: Type.Array(Type.Unknown()),
            units: Type.Array(Type.Unknown()),
          }),
          ...problems(400, 401, 403, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const at = parseAt(request.query.at);
      const [city, through] = await Promise.all([cityAtJson(sql, at), projectedThrough(sql)]);
      // The arrays arrive as JSON text from PostgreSQL; a string reply is sent as it is (the schema documents it).
      const head = JSON.stringify({ at: at.toISOString(), projectedThrough: through });
      return reply.type('application/json; charset=utf-8').send(`${head.slice(0, -1)},${city.slice(1)}` as never);
    },
  );
};

export default timeTravel;
