// GET /api/health: for load balancers and for people. 503 when the database cannot be reached.
import type { FastifyPluginAsync } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import type { Projector } from '../../projections/runner.ts';
import { Closed, Nullable, problems } from '../http/schemas.ts';

export interface HealthOptions {
  sql: Sql;
  storeKind: string;
  projector?: Projector;
}

const HealthBody = Closed({
  status: Type.Literal('ok'),
  store: Type.String(),
  database: Type.Literal('ok'),
  projector: Nullable(Closed({ role: Type.String(), seq: Type.Integer() })),
  uptimeSeconds: Type.Number(),
});

const health: FastifyPluginAsync<HealthOptions> = async (app, { sql, storeKind, projector }) => {
  const started = Date.now();
  app.get(
    '/api/health',
    {
      config: { rateLimit: false },
      schema: { tags: ['health'], summary: 'Liveness and database reachability', response: { 200: HealthBody, ...problems(503) } },
    },
    async () => {
      // A failure here reaches the error handler, which answers 503 with Retry-After for an unreachable database.
      await sql`select 1`;
      return {
        status: 'ok' as const,
        store: storeKind,
        database: 'ok' as const,
        projector: projector ? { role: projector.role(), seq: projector.seq() } : null,
        uptimeSeconds: Math.round((Date.now() - started) / 1000),
      };
    },
  );
};

export default health;
