// The composition root: one Fastify instance, one plugin per capability.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Sql } from 'postgres';
import type { EventStore } from '../eventstore/port.ts';
import { newId } from '../eventstore/eventIds.ts';
import type { Projector } from '../projections/runner.ts';
import auth from './auth/plugin.ts';
import { PersonalDataStore, PersonalDataVault } from './audit/personalData.ts';
import { auditKey } from './audit/secret.ts';
import type { AppConfig, StoreKind } from './config.ts';
import { registerErrorHandling } from './http/errors.ts';
import { createValidatorCompiler } from './http/validator.ts';
import audit from './plugins/audit.ts';
import auditTrail from './plugins/auditTrail.ts';
import catalog from './plugins/catalog.ts';
import dashboard from './plugins/dashboard.ts';
import docs from './plugins/docs.ts';
import health from './plugins/health.ts';
import coordination from './plugins/coordination.ts';
import incidents from './plugins/incidents.ts';
import importRoutes from './import/plugin.ts';
import ingest from './plugins/ingest.ts';
import type { FeedRow } from './live/feedQueries.ts';
import live from './plugins/live.ts';
import protection from './plugins/protection.ts';
import queries from './plugins/queries.ts';
import timeTravel from './plugins/timeTravel.ts';
import units from './plugins/units.ts';
import web, { type WebOptions } from './plugins/web.ts';

export interface BuildAppOptions {
  config: AppConfig;
  store: EventStore;
  /** Read models, users and idempotency keys. */
  sql: Sql;
  /** The projector running in this process, if any: the live feed hears its commits at once. */
  projector?: Projector;
  storeKind: StoreKind;
  /** Hear other processes' projectors through LISTEN (real PostgreSQL only); default: storeKind is 'postgres'. */
  listen?: boolean;
  /** Overrides the pino logger built from config.logLevel (tests pass false). */
  logger?: FastifyServerOptions['logger'];
  /** Where the built web app is; false serves the API alone. */
  web?: WebOptions | false;
  /** Run the status timers on the wall clock every this many ms (npm start); absent: not run (tests drive a StatusTimerWatch with their own clock). */
  statusTimerIntervalMs?: number;
}

// An incoming X-Request-Id joins our logs to the caller's; anything that does not look like an id is replaced.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, sql, projector, storeKind } = options;
  // Commands see reporters' personal data; the store holds it sealed with a per-incident key (api/audit/personalData.ts).
  const vault = new PersonalDataVault(sql);
  const store = new PersonalDataStore(options.store, vault);
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    },
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : newId();
    },
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });

  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandling(app);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // First: its hook must see every route (log-ins, refusals, auditors' reads).
  await app.register(auditTrail, { sql });
  await app.register(protection, { rateLimitMax: config.rateLimitMax });
  await app.register(docs);
  await app.register(auth, { sql, secret: config.jwtSecret, expiresIn: config.jwtExpiresIn, loginRateLimitMax: config.loginRateLimitMax });
  await app.register(health, { sql, storeKind, ...(projector && { projector }) });
  await app.register(catalog, { demo: config.demo, ...(config.tileUrl !== undefined && { tileUrl: config.tileUrl }) });
  await app.register(incidents, { store, sql });
  await app.register(coordination, { store, sql, ...(options.statusTimerIntervalMs !== undefined && { statusTimerIntervalMs: options.statusTimerIntervalMs }) });
  await app.register(units, { store, sql });
  await app.register(importRoutes, { store, sql });
  await app.register(ingest, { store, sql, config });
  await app.register(queries, { sql });
  await app.register(dashboard, { sql });
  await app.register(audit, { sql, store, vault, signingKey: auditKey(config), checkpointEveryMs: (config.auditCheckpointSeconds ?? 60) * 1000 });
  await app.register(timeTravel, { sql, store, rawStore: options.store, vault });
  await app.register(live, {
    sql,
    listen: options.listen ?? storeKind === 'postgres',
    ...(projector && {
      onCommitted: (listener: (info: { toSeq: number; changes: readonly FeedRow[] }) => void) => projector.onCommitted(listener),
      projectsHere: () => projector.role() === 'active',
    }),
  });
  // Last: its catch-all serves the app's HTML for every path no API route claimed.
  if (options.web !== false) await app.register(web, options.web ?? {});
  return app;
}
