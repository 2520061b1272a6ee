// Multi-agency coordination and decision support (issue 6): legs and mutual aid, the lead agency, unit
// recommendations, duplicates (merge / split), enforcement cases and their queue, response plans, status timers.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import {
  allResponsePlans,
  COORDINATION_LIMITS,
  DEFAULT_DUPLICATE_RULES,
  DEFAULT_STATUS_TIMERS,
  enforcementQueue,
  incidentCoordination,
  incidentLabel,
  type Agency,
  type Coordination,
  type DuplicateRules,
  type IncidentCommand,
  type IncidentState,
  type StatusTimerRule,
} from '../../domain/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import type { Actor } from '../auth/actor.ts';
import { actsCitywide, allowRoles, authenticate, readsCitywide, requireIncidentInScope, requireVisibleIncident } from '../auth/guards.ts';
import { incidents } from '../commands/aggregates.ts';
import { handleCommand, load } from '../commands/commandHandler.ts';
import { mergeIncident, splitIncident } from '../commands/mergeIncidents.ts';
import { likelyDuplicates } from '../decision/duplicateQueries.ts';
import { recommendUnits } from '../decision/recommendations.ts';
import { StatusTimerWatch } from '../decision/statusTimerWatch.ts';
import { straightLineEstimator, type TravelTimeEstimator } from '../decision/travelTime.ts';
import { existingIncident } from '../http/found.ts';
import { badRequest, forbidden, notFound } from '../http/problem.ts';
import { runCommand, type CommandContext } from '../http/runCommand.ts';
import { AgencyId, Closed, CommandHeaders, CommandResult, Id, IdParams, problems, Text } from '../http/schemas.ts';
import { findIncident } from '../read/incidentQueries.ts';

export interface CoordinationPluginOptions {
  store: EventStore;
  sql: Sql;
  estimator?: TravelTimeEstimator;
  duplicateRules?: DuplicateRules;
  statusTimerRules?: readonly StatusTimerRule[];
  /** Run the status timers every this many ms on the wall clock; absent: not run (tests drive them with a clock of their own). */
  statusTimerIntervalMs?: number;
  /** The clock the background timers read; injected so a replayed or simulated city can run on its own time. */
  now?: () => number;
  /** For "available since" in recommendation reasons; default Asia/Shanghai. */
  timeZone?: string;
}

const security = [{ bearerAuth: [] }];
const commandResponses = () => ({ 200: CommandResult, ...problems(400, 401, 403, 404, 409, 412, 422, 429, 503) });
const AgencyParams = Closed({ id: Id, agency: AgencyId });
const Note = Text(COORDINATION_LIMITS.note, { minLength: 1 });

const Recommendation = Type.Object({
  unitId: Type.String(),
  callSign: Type.String(),
  agency: Type.String(),
  type: Type.String(),
  homeStation: Type.String(),
  distanceKm: Type.Number(),
  etaMinutes: Type.Number(),
  reason: Type.String(),
  coverage: Type.Object({
    lastAtStation: Type.Boolean(),
    remainingAtStation: Type.Integer(),
    nextNearest: Type.Union([Type.Object({ unitId: Type.String(), callSign: Type.String(), distanceKm: Type.Number() }), Type.Null()]),
  }),
});
const Duplicate = Type.Object({ id: Type.String(), label: Type.String(), distanceM: Type.Number(), minutesApart: Type.Number() });

/** Only the leg's own agency acts on it (admins act anywhere). */
function requireOwnLeg(actor: Actor, incidentId: string, agency: Agency, doing: string): void {
  if (actsCitywide(actor) || actor.agency === agency) return;
  throw forbidden(`Only ${agency} can ${doing} the ${agency} leg of ${incidentLabel(incidentId)}; you are ${actor.agency}.`, {
    incidentId,
    legAgency: agency,
    yourAgency: actor.agency,
  });
}

const coordinationPlugin: FastifyPluginAsync<CoordinationPluginOptions> = async (fastify, options) => {
  const { store, sql } = options;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const estimator = options.estimator ?? straightLineEstimator();
  const duplicateRules = options.duplicateRules ?? DEFAULT_DUPLICATE_RULES;
  const watch = new StatusTimerWatch({ store, sql, rules: options.statusTimerRules ?? DEFAULT_STATUS_TIMERS, log: fastify.log });

  if (options.statusTimerIntervalMs !== undefined && options.statusTimerIntervalMs > 0) {
    const now = options.now ?? Date.now;
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      watch
        .tick(now())
        .catch((error: unknown) => fastify.log.warn({ err: error }, 'status timers failed'))
        .finally(() => {
          running = false;
        });
    }, options.statusTimerIntervalMs);
    timer.unref();
    fastify.addHook('onClose', async () => clearInterval(timer));
  }

  app.addHook('preValidation', async (request) => {
    if ((request.body === undefined || request.body === null) && request.method === 'POST' && request.headers['content-type'] === undefined) request.body = {};
  });

  /** One command on one incident, with the caller's scope checked on the state the command is decided on. */
  const onIncident = (
    actor: Actor,
    ctx: CommandContext,
    incidentId: string,
    command: IncidentCommand,
    authorize: (state: IncidentState) => void = (state) => requireIncidentInScope(actor, incidentId, existingIncident(state, incidentId).agencies),
  ) =>
    handleCommand(store, incidents, incidentId, command, ctx.meta, { ...(ctx.ifMatch !== undefined && { ifMatch: ctx.ifMatch }), authorize }).then((r) => ({
      id: incidentId,
      revision: r.revision,
    }));

  const legRoute = (
    path: string,
    roles: Parameters<typeof allowRoles>[0],
    doing: string,
    summary: string,
    body: ReturnType<typeof Closed>,
    command: (agency: Agency, actor: Actor, body: Record<string, unknown>) => IncidentCommand,
  ) =>
    app.post(
      `/api/incidents/:id/${path}`,
      {
        onRequest: allowRoles(roles, `${doing} legs`),
        schema: { tags: ['coordination'], summary, security, headers: CommandHeaders, params: AgencyParams, body, response: commandResponses() },
      },
      (request, reply) => {
        const { id, agency } = request.params as { id: string; agency: Agency };
        const data = (request.body ?? {}) as Record<string, unknown>;
        return runCommand(request, reply, sql, {
          correlationId: id,
          ...(typeof data.reason === 'string' && { reason: data.reason }),
          execute: (ctx) =>
            onIncident(request.user, ctx, id, command(agency, request.user, data), (state) => {
              existingIncident(state, id);
              requireOwnLeg(request.user, id, agency, doing);
            }),
        });
      },
    );

  legRoute('legs/:agency/claim', ['dispatcher', 'admin'], 'take charge of', "Take charge of your agency's leg (you become its owner)", Closed({}), (agency, actor) => ({
    type: 'ClaimLeg',
    data: { agency, owner: actor.id },
  }));
  legRoute(
    'legs/:agency/complete',
    ['dispatcher', 'supervisor', 'admin'],
    'complete',
    "Complete your agency's leg (its units cleared); the last leg done resolves the incident",
    Closed({ summary: Type.Optional(Text(COORDINATION_LIMITS.summary)) }),
    (agency, _actor, b) => ({ type: 'CompleteLeg', data: { agency, ...(typeof b.summary === 'string' && { summary: b.summary }) } }),
  );
  legRoute('mutual-aid/:agency/accept', ['dispatcher', 'admin'], 'accept mutual aid for', 'Accept a mutual-aid request to your agency', Closed({}), (agency, actor) => ({
    type: 'AcceptMutualAid',
    data: { agency, owner: actor.id },
  }));
  legRoute(
    'mutual-aid/:agency/decline',
    ['dispatcher', 'admin'],
    'decline mutual aid for',
    'Decline a mutual-aid request to your agency, with a reason',
    Closed({ reason: Note }),
    (agency, _actor, b) => ({ type: 'DeclineMutualAid', data: { agency, reason: String(b.reason ?? '') } }),
  );

  app.post(
    '/api/incidents/:id/mutual-aid',
    {
      onRequest: allowRoles(['dispatcher', 'admin'], 'request mutual aid'),
      schema: {
        tags: ['coordination'],
        summary: 'Ask another agency for mutual aid; it accepts or declines',
        security,
        headers: CommandHeaders,
        params: IdParams,
        body: Closed({ agency: AgencyId, note: Type.Optional(Note), requestedBy: Type.Optional(AgencyId) }),
        response: commandResponses(),
      },
    },
    (request, reply) => {
      const { id } = request.params;
      const { agency, note } = request.body;
      // Admins may ask on an agency's behalf; everyone else asks for their own.
      const requestedBy = (actsCitywide(request.user) && request.body.requestedBy) || request.user.agency;
      return runCommand(request, reply, sql, {
        correlationId: id,
        execute: (ctx) => onIncident(request.user, ctx, id, { type: 'RequestMutualAid', data: { agency, requestedBy, ...(note !== undefined && { note }) } }),
      });
    },
  );

  app.post(
    '/api/incidents/:id/lead',
    {
      onRequest: allowRoles(['dispatcher', 'admin'], 'hand over the lead'),
      schema: {
        tags: ['coordination'],
        summary: 'Hand the lead of the incident to another agency on it (the lead agency only)',
        security,
        headers: CommandHeaders,
        params: IdParams,
        body: Closed({ to: AgencyId, reason: Type.Optional(Note) }),
        response: commandResponses(),
      },
    },
    (request, reply) => {
      const { id } = request.params;
      const { to, reason } = request.body;
      return runCommand(request, reply, sql, {
        correlationId: id,
        ...(reason !== undefined && { reason }),
        execute: (ctx) =>
          onIncident(request.user, ctx, id, { type: 'HandOverLead', data: { to, ...(reason !== undefined && { reason }) } }, (state) => {
            existingIncident(state, id);
            const lead = incidentCoordination(state)?.lead;
            if (!actsCitywide(request.user) && lead !== request.user.agency) {
              throw forbidden(`Only the lead agency (${lead}) can hand over the lead of ${incidentLabel(id)}; you are ${request.user.agency}.`, {
                lead,
                yourAgency: request.user.agency,
              });
            }
          }),
      });
    },
  );

  // Enforcement cases: inspection → rectification order with a deadline → re-inspection → closed or escalated.
  const caseRoute = (path: string, summary: string, body: ReturnType<typeof Closed>, command: (b: Record<string, unknown>, ctx: CommandContext) => IncidentCommand) =>
    app.post(
      `/api/incidents/:id/${path}`,
      {
        onRequest: allowRoles(['dispatcher', 'supervisor', 'admin'], 'record enforcement steps'),
        schema: { tags: ['enforcement'], summary, security, headers: CommandHeaders, params: IdParams, body, response: commandResponses() },
      },
      (request, reply) => {
        const { id } = request.params;
        const data = (request.body ?? {}) as Record<string, unknown>;
        return runCommand(request, reply, sql, { correlationId: id, execute: (ctx) => onIncident(request.user, ctx, id, command(data, ctx)) });
      },
    );
  caseRoute(
    'inspection',
    'Record the inspection of a work-safety or urban-management case',
    Closed({ findings: Text(COORDINATION_LIMITS.findings, { minLength: 1 }), violationFound: Type.Boolean() }),
    (b) => ({ type: 'RecordInspection', data: { findings: String(b.findings), violationFound: b.violationFound === true } }),
  );
  caseRoute(
    'rectification',
    'Order rectification within a number of days; the due date enters the enforcement queue',
    Closed({ requirements: Text(COORDINATION_LIMITS.requirements, { minLength: 1 }), deadlineDays: Type.Integer({ minimum: 1, maximum: COORDINATION_LIMITS.maxDeadlineDays }) }),
    (b, ctx) => ({ type: 'OrderRectification', data: { requirements: String(b.requirements), deadlineDays: Number(b.deadlineDays), orderedAt: ctx.meta.occurredAt } }),
  );
  caseRoute(
    'reinspection',
    'Record the re-inspection: rectified closes the case, not rectified escalates it',
    Closed({ compliant: Type.Boolean(), findings: Text(COORDINATION_LIMITS.findings, { minLength: 1 }) }),
    (b) => ({ type: 'RecordReinspection', data: { compliant: b.compliant === true, findings: String(b.findings) } }),
  );

  // Merge and split: both touch two streams (api/commands/mergeIncidents.ts).
  const pairScope = (actor: Actor, duplicateId: string, primaryId: string) => (duplicate: IncidentState, primary: IncidentState) => {
    requireIncidentInScope(actor, duplicateId, existingIncident(duplicate, duplicateId).agencies);
    requireIncidentInScope(actor, primaryId, existingIncident(primary, primaryId).agencies);
  };

  app.post(
    '/api/incidents/:id/merge',
    {
      onRequest: allowRoles(['dispatcher', 'admin'], 'merge incidents'),
      schema: {
        tags: ['duplicates'],
        summary: 'Merge this incident (a duplicate) into another: its reports and notes join the primary; it closes as merged',
        security,
        headers: CommandHeaders,
        params: IdParams,
        body: Closed({ into: Id }),
        response: commandResponses(),
      },
    },
    (request, reply) => {
      const duplicateId = request.params.id;
      const primaryId = request.body.into;
      return runCommand(request, reply, sql, {
        correlationId: primaryId,
        execute: async ({ meta }) => {
          const result = await mergeIncident(store, { duplicateId, primaryId, authorize: pairScope(request.user, duplicateId, primaryId) }, meta);
          return { id: duplicateId, revision: result.duplicateRevision };
        },
      });
    },
  );

  app.post(
    '/api/incidents/:id/split',
    {
      onRequest: allowRoles(['dispatcher', 'admin'], 'split incidents'),
      schema: {
        tags: ['duplicates'],
        summary: 'Undo a merge: on the primary name the duplicate; on a merged duplicate send an empty body',
        security,
        headers: CommandHeaders,
        params: IdParams,
        body: Closed({ duplicateId: Type.Optional(Id) }),
        response: commandResponses(),
      },
    },
    (request, reply) => {
      const id = request.params.id;
      return runCommand(request, reply, sql, {
        correlationId: id,
        execute: async ({ meta }) => {
          let primaryId = id;
          let duplicateId = request.body.duplicateId;
          if (duplicateId === undefined) {
            // From the stream, not the board: a merge made a moment ago must be splittable at once.
            const { state } = await load(store, incidents, id);
            const mergedInto = incidentCoordination(state)?.mergedInto;
            if (incidentCoordination(state) === null) throw notFound(`There is no incident ${incidentLabel(id)} (${id}).`, { incidentId: id });
            if (!mergedInto) throw badRequest(`${incidentLabel(id)} is not merged into another incident; name the merged duplicate to split off ('duplicateId').`, { field: 'duplicateId' });
            primaryId = mergedInto;
            duplicateId = id;
          }
          const result = await splitIncident(store, { primaryId, duplicateId, authorize: pairScope(request.user, duplicateId, primaryId) }, { ...meta, correlationId: primaryId });
          return { id, revision: id === primaryId ? result.primaryRevision : result.duplicateRevision };
        },
      });
    },
  );

  // ---- reads ----

  const visibleIncident = async (actor: Actor, id: string) => {
    const incident = await findIncident(sql, id);
    if (!incident) throw notFound(`There is no incident ${incidentLabel(id)} (${id}).`, { incidentId: id });
    requireVisibleIncident(actor, incident.id, incident.agencies);
    return incident;
  };

  app.get(
    '/api/incidents/:id/recommendations',
    {
      onRequest: authenticate,
      schema: {
        tags: ['coordination'],
        summary: 'Available units of the types the incident needs, soonest arrival first, each with the reason',
        security,
        params: IdParams,
        querystring: Closed({ agency: Type.Optional(AgencyId), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
        response: { 200: Type.Array(Recommendation), ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const incident = await visibleIncident(request.user, request.params.id);
      const { agency, limit } = request.query;
      const involved = incident.legs.filter((l) => l.status !== 'declined').map((l) => l.agency as Agency);
      const agencies: Agency[] = agency !== undefined ? [agency] : involved.includes(request.user.agency) && !readsCitywide(request.user) ? [request.user.agency] : involved;
      return recommendUnits(sql, estimator, incident, agencies, { limit: limit ?? 10, ...(options.timeZone !== undefined && { timeZone: options.timeZone }) });
    },
  );

  app.get(
    '/api/incidents/:id/duplicates',
    {
      onRequest: authenticate,
      schema: {
        tags: ['duplicates'],
        summary: 'Open incidents of a compatible type near this one and close in time: likely duplicates, nearest first',
        security,
        params: IdParams,
        response: { 200: Type.Array(Duplicate), ...problems(401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const incident = await visibleIncident(request.user, request.params.id);
      const found = await likelyDuplicates(sql, { id: incident.id, type: incident.type, location: incident.location, reportedAt: incident.reportedAt }, duplicateRules);
      return found.map((d) => ({ ...d, label: incidentLabel(d.id) }));
    },
  );

  app.get(
    '/api/enforcement/queue',
    {
      onRequest: authenticate,
      schema: {
        tags: ['enforcement'],
        summary: 'Enforcement cases waiting for rectification or re-inspection, soonest due first; overdue ones flagged',
        security,
        querystring: Closed({
          agency: Type.Optional(AgencyId),
          at: Type.Optional(Type.String({ format: 'date-time', description: 'Judge due dates at this time (default: now)' })),
          overdue: Type.Optional(Type.Boolean({ description: 'Only cases past their due date' })),
        }),
        response: {
          200: Type.Array(
            Type.Object({
              incidentId: Type.String(),
              label: Type.String(),
              type: Type.String(),
              agencies: Type.Array(Type.String()),
              address: Type.Union([Type.String(), Type.Null()]),
              stage: Type.String(),
              requirements: Type.Union([Type.String(), Type.Null()]),
              dueAt: Type.Union([Type.String(), Type.Null()]),
              daysLeft: Type.Union([Type.Integer(), Type.Null()]),
              overdue: Type.Boolean(),
            }),
          ),
          ...problems(400, 401, 429, 503),
        },
      },
    },
    async (request) => {
      const { agency, at, overdue } = request.query;
      const rows = await sql`
        select id, type, agencies, address, coordination -> 'enforcement' as enforcement
          from incident_board
         where coordination ? 'enforcement' and status not in ('cancelled')`;
      const visible = rows.filter((r) => {
        const agencies = (r.agencies as string[]) ?? [];
        if (agency !== undefined && !agencies.includes(agency)) return false;
        return readsCitywide(request.user) || agencies.includes(request.user.agency);
      });
      const queue = enforcementQueue(
        visible.map((r) => ({
          incidentId: String(r.id),
          type: String(r.type),
          agencies: r.agencies as string[],
          address: (r.address as string | null) ?? null,
          enforcement: r.enforcement as NonNullable<Coordination['enforcement']>,
        })),
        at !== undefined ? Date.parse(at) : Date.now(),
      );
      return queue.filter((q) => overdue !== true || q.overdue).map((q) => ({ ...q, label: incidentLabel(q.incidentId) }));
    },
  );

  app.get(
    '/api/response-plans',
    {
      onRequest: authenticate,
      schema: { tags: ['coordination'], summary: 'Response plans (run cards) per incident type and priority', security, response: { 200: Type.Array(Type.Unknown()), ...problems(401, 429) } },
    },
    async () => allResponsePlans(),
  );

  app.get(
    '/api/status-timers',
    {
      onRequest: authenticate,
      schema: { tags: ['coordination'], summary: 'The status timer rules: how long each status may last per priority', security, response: { 200: Type.Array(Type.Unknown()), ...problems(401, 429) } },
    },
    async () => [...watch.rules],
  );
};

export default coordinationPlugin;
