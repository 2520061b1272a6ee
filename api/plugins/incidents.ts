// Incident commands: report, triage, assign, unit status on the incident, notes, escalate, resolve, close, cancel, reopen.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import {
  ASSIGNED_UNIT_STATUSES,
  INCIDENT_LIMITS,
  incidentLabel,
  incidentTypeInfo,
  listWords,
  unionAgencies,
  UNIT_LIMITS,
  type Agency,
  type IncidentCommand,
  type IncidentState,
  type Priority as PriorityLevel,
  type UnitState,
} from '../../domain/index.ts';
import { newId } from '../../eventstore/eventIds.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { incidents } from '../commands/aggregates.ts';
import { assignUnit, changeUnitStatus } from '../commands/assignUnit.ts';
import { handleCommand } from '../commands/commandHandler.ts';
import type { Actor } from '../auth/actor.ts';
import { actsCitywide, allowRoles, requireIncidentInScope, requireUnitInScope } from '../auth/guards.ts';
import { existingIncident, existingUnit } from '../http/found.ts';
import { forbidden } from '../http/problem.ts';
import { runCommand, type CommandContext } from '../http/runCommand.ts';
import { likelyDuplicates } from '../decision/duplicateQueries.ts';
import {
  Agencies,
  Closed,
  CommandHeaders,
  CommandResult,
  Id,
  IdParams,
  IncidentTypeId,
  IncidentUnitParams,
  Location,
  Priority,
  problems,
  SourceId,
  Text,
} from '../http/schemas.ts';

export interface CommandPluginOptions {
  store: EventStore;
  sql: Sql;
}

const Reason = Text(INCIDENT_LIMITS.reason, { minLength: 1 });

const ReportBody = Closed({
  type: IncidentTypeId,
  priority: Priority,
  location: Location,
  address: Type.Optional(Text(INCIDENT_LIMITS.address)),
  description: Type.Optional(Text(INCIDENT_LIMITS.description)),
  source: Type.Optional(SourceId),
  reporter: Type.Optional(Closed({ name: Type.Optional(Text(INCIDENT_LIMITS.reporterName)), phone: Type.Optional(Text(INCIDENT_LIMITS.reporterPhone)) })),
  agencies: Type.Optional(Agencies),
});

const TriageBody = Closed({ priority: Type.Optional(Priority), type: Type.Optional(IncidentTypeId), agencies: Type.Optional(Agencies) });
const AssignBody = Closed({ unitId: Id });
const UnitStatusBody = Closed({ status: Type.Enum([...ASSIGNED_UNIT_STATUSES]), destination: Type.Optional(Text(UNIT_LIMITS.destination)) });
const ResolveBody = Closed({ summary: Type.Optional(Text(INCIDENT_LIMITS.summary)) });
const EmptyBody = Closed({});
const ReasonBody = Closed({ reason: Reason });
const NoteBody = Closed({ text: Text(INCIDENT_LIMITS.noteText, { minLength: 1 }) });
const EscalateBody = Closed({ priority: Type.Optional(Priority), agencies: Type.Optional(Agencies), reason: Type.Optional(Reason) });

const security = [{ bearerAuth: [] }];
// A report answers with the open incidents it probably duplicates (absent when there are none).
const ReportResult = Type.Object(
  {
    ...CommandResult.properties,
    duplicates: Type.Optional(
      Type.Array(Type.Object({ id: Type.String(), label: Type.String(), distanceM: Type.Number(), minutesApart: Type.Number() }), {
        description: 'Likely duplicates: open incidents of a compatible type nearby and close in time, nearest first',
      }),
    ),
  },
  { additionalProperties: false },
);
const commandResponses = (created = false) => ({ [created ? 201 : 200]: CommandResult, ...problems(400, 401, 403, 404, 409, 412, 422, 429, 503) });

const incidentsPlugin: FastifyPluginAsync<CommandPluginOptions> = async (fastify, { store, sql }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  // A POST without a body (e.g. "close") is an empty command, not a malformed one.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) {
      if (request.headers['content-type'] === undefined) request.body = {};
    }
  });

  /** Runs an incident command for a caller whose agency the incident must involve. */
  const incidentCommand = async (actor: Actor, ctx: CommandContext, incidentId: string, command: IncidentCommand) => {
    const result = await handleCommand(store, incidents, incidentId, command, ctx.meta, {
      ...(ctx.ifMatch !== undefined && { ifMatch: ctx.ifMatch }),
      authorize: (state) => requireIncidentInScope(actor, incidentId, existingIncident(state, incidentId).agencies),
    });
    return { id: incidentId, revision: result.revision };
  };

  /** Assignment and field status: the incident must involve the caller's agency, and the unit be of it. */
  const scopeBoth = (actor: Actor, incidentId: string, unitId: string) => (incident: IncidentState, unit: UnitState) => {
    requireIncidentInScope(actor, incidentId, existingIncident(incident, incidentId).agencies);
    requireUnitInScope(actor, existingUnit(unit, unitId));
  };

  app.post(
    '/api/incidents',
    {
      onRequest: allowRoles(['dispatcher', 'admin'], 'report incidents'),
      schema: {
        tags: ['incidents'],
        summary: 'Report a new incident; the answer lists likely duplicates when there are any',
        security,
        headers: CommandHeaders,
        body: ReportBody,
        response: { ...commandResponses(true), 201: ReportResult },
      },
    },
    (request, reply) => {
      const body = request.body;
      return runCommand(request, reply, sql, {
        reserve: () => ({ incidentId: newId() }),
        execute: async ({ meta, reserved }) => {
          const incidentId = reserved.incidentId ?? newId();
          const agencies = unionAgencies(incidentTypeInfo(body.type)?.agencies, body.agencies as Agency[] | undefined);
          if (!actsCitywide(request.user) && !agencies.includes(request.user.agency)) {
            throw forbidden(
              `A ${body.type.replace(/_/g, ' ')} incident needs ${listWords(agencies, 'and')}, not your agency (${request.user.agency}); ` +
                `add ${request.user.agency} to its agencies if it needs you, or leave it to a dispatcher of ${listWords(agencies)}.`,
              { agencies, yourAgency: request.user.agency },
            );
          }
          const result = await handleCommand(
            store,
            incidents,
            incidentId,
            { type: 'ReportIncident', data: { incidentId, ...body, priority: body.priority as PriorityLevel } },
            { ...meta, correlationId: incidentId },
          );
          // Advice about a report already recorded: if it cannot be worked out, the report still stands and is answered.
          const duplicates = await likelyDuplicates(sql, { id: incidentId, type: body.type, location: body.location, reportedAt: meta.occurredAt }).catch(
            (error: unknown) => {
              request.log.warn({ err: error, incidentId }, 'could not look for likely duplicates of a new report');
              return [];
            },
          );
          return {
            id: incidentId,
            revision: result.revision,
            created: true,
            location: `/api/incidents/${incidentId}`,
            ...(duplicates.length > 0 && { extra: { duplicates: duplicates.map((d) => ({ ...d, label: incidentLabel(d.id) })) } }),
          };
        },
      });
    },
  );

  app.post(
    '/api/incidents/:id/triage',
    {
      onRequest: allowRoles(['dispatcher', 'admin'], 'triage incidents'),
      schema: { tags: ['incidents'], summary: 'Triage: confirm or change priority, type and agencies', security, headers: CommandHeaders, params: IdParams, body: TriageBody, response: commandResponses() },
    },
    (request, reply) =>
      runCommand(request, reply, sql, {
        correlationId: request.params.id,
        execute: (ctx) => incidentCommand(request.user, ctx, request.params.id, { type: 'TriageIncident', data: request.body as Extract<IncidentCommand, { type: 'TriageIncident' }>['data'] }),
      }),
  );

  app.post(
    '/api/incidents/:id/assignments',
    {
      onRequest: allowRoles(['dispatcher', 'admin'], 'assign units'),
      schema: { tags: ['incidents'], summary: 'Assign a unit to the incident', security, headers: CommandHeaders, params: IdParams, body: AssignBody, response: commandResponses() },
    },
    (request, reply) => {
      const incidentId = request.params.id;
      const { unitId } = request.body;
      return runCommand(request, reply, sql, {
        correlationId: incidentId,
        execute: async ({ meta, ifMatch }) => {
          const authorize = scopeBoth(request.user, incidentId, unitId);
          const result = await assignUnit(store, { incidentId, unitId, authorize, ...(ifMatch !== undefined && { ifMatch }) }, meta);
          return { id: incidentId, revision: result.incidentRevision, unitId, unitRevision: result.unitRevision };
        },
      });
    },
  );

  app.post(
    '/api/incidents/:id/units/:unitId/status',
    {
      onRequest: allowRoles(['dispatcher', 'supervisor', 'admin'], "report a unit's status on an incident"),
      schema: {
        tags: ['incidents'],
        summary: 'A unit on the incident reports en route, on scene, transporting, at hospital or cleared',
        security,
        headers: CommandHeaders,
        params: IncidentUnitParams,
        body: UnitStatusBody,
        response: commandResponses(),
      },
    },
    (request, reply) => {
      const { id: incidentId, unitId } = request.params;
      return runCommand(request, reply, sql, {
        correlationId: incidentId,
        execute: async ({ meta, ifMatch }) => {
          const result = await changeUnitStatus(
            store,
            {
              incidentId,
              unitId,
              authorize: scopeBoth(request.user, incidentId, unitId),
              status: request.body.status,
              ...(request.body.destination !== undefined && { destination: request.body.destination }),
              ...(ifMatch !== undefined && { ifMatch }),
            },
            meta,
          );
          return { id: incidentId, revision: result.incidentRevision, unitId, unitRevision: result.unitRevision };
        },
      });
    },
  );

  const simple = <B extends typeof ResolveBody | typeof EmptyBody | typeof ReasonBody | typeof NoteBody | typeof EscalateBody>(
    path: string,
    roles: Parameters<typeof allowRoles>[0],
    action: string,
    summary: string,
    body: B,
    command: (body: Record<string, unknown>) => IncidentCommand,
    reason?: (body: Record<string, unknown>) => string | undefined,
  ) =>
    app.post(
      `/api/incidents/:id/${path}`,
      {
        onRequest: allowRoles(roles, action),
        schema: { tags: ['incidents'], summary, security, headers: CommandHeaders, params: IdParams, body, response: commandResponses() },
      },
      (request, reply) => {
        const data = (request.body ?? {}) as Record<string, unknown>;
        const why = reason?.(data);
        return runCommand(request, reply, sql, {
          correlationId: request.params.id,
          ...(why !== undefined && { reason: why }),
          execute: (ctx) => incidentCommand(request.user, ctx, request.params.id, command(data)),
        });
      },
    );

  type Data<T extends IncidentCommand['type']> = Extract<IncidentCommand, { type: T }>['data'];
  const text = (b: Record<string, unknown>, field: string) => (typeof b[field] === 'string' ? (b[field] as string) : undefined);

  simple('resolve', ['dispatcher', 'supervisor', 'admin'], 'resolve incidents', 'Resolve the incident (every unit cleared)', ResolveBody, (b) => ({
    type: 'ResolveIncident',
    data: b as Data<'ResolveIncident'>,
  }));
  simple('close', ['dispatcher', 'admin'], 'close incidents', 'Close a resolved incident', EmptyBody, () => ({ type: 'CloseIncident', data: {} }));
  simple(
    'cancel',
    ['dispatcher', 'admin'],
    'cancel incidents',
    'Cancel the incident (a false alarm, a duplicate…) with a reason',
    ReasonBody,
    (b) => ({ type: 'CancelIncident', data: b as Data<'CancelIncident'> }),
    (b) => text(b, 'reason'),
  );
  simple(
    'reopen',
    ['dispatcher', 'admin'],
    'reopen incidents',
    'Reopen a resolved or closed incident with a reason',
    ReasonBody,
    (b) => ({ type: 'ReopenIncident', data: b as Data<'ReopenIncident'> }),
    (b) => text(b, 'reason'),
  );
  simple('notes', ['dispatcher', 'supervisor', 'admin'], 'add notes to incidents', 'Add a note to the incident log', NoteBody, (b) => ({
    type: 'AddNote',
    data: b as Data<'AddNote'>,
  }));
  simple(
    'escalate',
    ['dispatcher', 'admin'],
    'escalate incidents',
    'Escalate: raise the priority and/or bring in more agencies',
    EscalateBody,
    (b) => ({
      type: 'EscalateIncident',
      data: { ...(b.priority !== undefined && { priority: b.priority }), ...(b.agencies !== undefined && { agencies: b.agencies }) } as Data<'EscalateIncident'>,
    }),
    (b) => text(b, 'reason'),
  );
};

export default incidentsPlugin;
