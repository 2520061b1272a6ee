// The live feed: GET /api/live (WebSocket) and POST /api/live/ticket. Message formats: api/live/messages.ts.
import type {} from '@fastify/jwt';
import websocket from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import { FEED_CHANNEL } from '../../projections/runner.ts';
import type { FeedRow } from '../live/feedQueries.ts';
import { LiveHub, type HubOptions } from '../live/hub.ts';
import type { LiveUser } from '../live/messages.ts';
import { actorFromUpgrade, issueTicket } from '../live/tickets.ts';
import { authenticate } from '../auth/guards.ts';
import { Closed, problems } from '../http/schemas.ts';

export interface LiveOptions {
  sql: Sql;
  /** In-process wake-up after the projector commits a batch (embedded mode and same-process runners). */
  onCommitted?: (listener: (info: { toSeq: number | bigint; changes?: readonly FeedRow[] }) => void) => () => void;
  /** Use PostgreSQL LISTEN cbd_feed to hear other processes' projectors (real PostgreSQL only). */
  listen: boolean;
  /** Whether the projector now writing the read models is the one in this process (it hands its batches over). */
  projectsHere?: () => boolean;
  /** Tuning; defaults suit production (see HubOptions). */
  hub?: Omit<HubOptions, 'sql' | 'log'>;
  /** How long a ticket from POST /api/live/ticket opens the feed. */
  ticketTtlSeconds?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's live feed hub (tests use it to wait until everything committed has been sent). */
    liveHub: LiveHub;
  }
}

interface LiveQuery {
  ticket?: string;
  token?: string;
  since?: number;
  snapshot?: boolean;
}

/** How long a NOTIFY from this process's own projector waits for the batch it announces to be handed over. */
const NOTIFY_FALLBACK_MS = 200;

const live: FastifyPluginAsync<LiveOptions> = async (app, options) => {
  const hub = new LiveHub({ ...options.hub, sql: options.sql, log: app.log });
  await hub.start();
  app.decorate('liveHub', hub);

  if (!app.hasDecorator('websocketServer')) {
    // Our own preClose: clients hear 1001 with the position to resume from, not a bare close.
    await app.register(websocket, {
      options: { maxPayload: 64 * 1024 },
      preClose: async () => {
        await hub.stop();
        await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
      },
    });
  }
  app.addHook('preClose', async () => hub.stop());

  if (options.onCommitted) hub.onStop(options.onCommitted(({ toSeq, changes }) => hub.wake(Number(toSeq), changes)));
  if (options.listen) {
    const { unlisten } = await options.sql.listen(FEED_CHANNEL, (payload) => {
      const seq = Number(payload);
      const toSeq = Number.isFinite(seq) && seq > 0 ? seq : undefined;
      // While the projector writing the read models is this process's own, it hands its batches over itself, and
      // its NOTIFY would only send the hub to read back what it is about to be given: that is left as a fallback.
      if (options.projectsHere?.()) setTimeout(() => hub.wake(toSeq), NOTIFY_FALLBACK_MS).unref();
      else hub.wake(toSeq);
    });
    hub.onStop(unlisten);
  }

  const ticketTtl = options.ticketTtlSeconds ?? 60;

  app.post(
    '/api/live/ticket',
    {
      schema: {
        summary: 'A one-minute ticket to open the live feed (GET /api/live?ticket=…)',
        tags: ['live'],
        security: [{ bearerAuth: [] }],
        body: Closed({}),
        response: {
          201: Closed({ ticket: Type.String(), expiresIn: Type.Integer({ description: 'seconds the ticket stays valid' }) }),
          ...problems(400, 401, 429),
        },
      },
      onRequest: authenticate,
      // Asking for a ticket carries nothing: no body is as good as {}.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => reply.code(201).send(issueTicket(app, request.user, ticketTtl)),
  );

  const users = new WeakMap<FastifyRequest, LiveUser>();

  app.get<{ Querystring: LiveQuery }>(
    '/api/live',
    {
      websocket: true,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ticket: { type: 'string', maxLength: 4096 },
            token: { type: 'string', maxLength: 4096 },
            since: { type: 'integer', minimum: 0, description: 'the last position the client applied' },
            snapshot: { type: 'boolean', description: 'start with a full snapshot (reset) whatever since says' },
          },
        },
      },
      // Before the upgrade, so a bad ticket gets a plain HTTP 401 and no socket is ever opened.
      preValidation: async (request) => {
        users.set(request, actorFromUpgrade(app, request.query));
      },
    },
    (socket, request) => {
      const user = users.get(request);
      if (!user) {
        socket.close(4401, 'unauthorized');
        return;
      }
      const { since, snapshot } = request.query;
      void hub.attach(socket, user, { ...(since !== undefined && { since }), ...(snapshot !== undefined && { snapshot }) });
    },
  );
};

// Not encapsulated: app.liveHub must reach the root instance (shutdown, health, tests).
(live as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export default live;
