// The city dashboard (big screen): open incidents, counts, response-time KPIs, unit utilisation.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import { authenticate } from '../auth/guards.ts';
import { badRequest } from '../http/problem.ts';
import { Closed, problems } from '../http/schemas.ts';
import { Dashboard, dashboard } from '../read/dashboard.ts';

const DashboardQuery = Closed({
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Only incidents reported at or after this time' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Only incidents reported before this time' })),
});

const dashboardPlugin: FastifyPluginAsync<{ sql: Sql }> = async (fastify, { sql }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/dashboard',
    {
      onRequest: authenticate,
      schema: {
        tags: ['dashboard'],
        summary: 'City-wide KPIs; durations in seconds (P50/P90 interpolated between ranks, null when no incident reached the milestone)',
        security: [{ bearerAuth: [] }],
        querystring: DashboardQuery,
        response: { 200: Dashboard, ...problems(400, 401, 429, 503) },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      if (from !== undefined && to !== undefined && Date.parse(from) > Date.parse(to)) {
        throw badRequest("The query parameter 'from' must not be after 'to'.", { field: 'from' });
      }
      return dashboard(sql, { ...(from !== undefined && { from }), ...(to !== undefined && { to }) });
    },
  );
};

export default dashboardPlugin;
