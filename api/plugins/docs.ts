// The OpenAPI document (GET /docs/json, /docs/yaml) and Swagger UI at /docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';

const docs: FastifyPluginAsync = async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'CityBrain Dispatch API',
        description:
          'Event-sourced multi-agency incident dispatch. Commands (POST) answer {id, revision, commandId} with ETag = revision, ' +
          'honour If-Match (412 when stale) and Idempotency-Key (safe retries). Errors are application/problem+json (RFC 9457).',
        version: '0.1.0',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [
        { name: 'auth', description: 'Log in' },
        { name: 'incidents', description: 'Report, triage, assign, follow and close incidents' },
        { name: 'units', description: 'Units of every agency' },
        { name: 'dashboard', description: 'City-wide KPIs' },
        { name: 'config', description: 'Vocabulary' },
        { name: 'health', description: 'Health' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
};

// Not encapsulated: swagger collects routes through an onRoute hook, which must see every plugin's routes.
(docs as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export default docs;
