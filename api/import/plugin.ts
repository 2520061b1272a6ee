// The admin-only import path (issue 7): commands that carry the source's business time (`occurredAt`), for
// replaying history such as a city's past dispatch records. The store still stamps its own recordedAt, and the
// audit trail shows both. No other route lets a caller choose the time.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ASSIGNED_UNIT_STATUSES, INCIDENT_LIMITS, UNIT_LIMITS, type Agency, type IncidentCommand, type Priority as PriorityLevel } from '../../domain/index.ts';
import { newId } from '../../eventstore/eventIds.ts';
import { assignUnit, changeUnitStatus } from '../commands/assignUnit.ts';
import { incidents, units } from '../commands/aggregates.ts';
import { handleCommand } from '../commands/commandHandler.ts';
import { allowRoles } from '../auth/guards.ts';
import { existingIncident } from '../http/found.ts';
import { badRequest } from '../http/problem.ts';
import { runCommand } from '../http/runCommand.ts';
import { problemFor } from '../http/errors.ts';
import { commandIdFor } from '../http/idempotency.ts';
import { BatchBody, BatchResult, runImportItem } from './batch.ts';
import { Agencies, AgencyId, Closed, CommandHeaders, CommandResult, IdParams, IncidentTypeId, IncidentUnitParams, Location, Priority, problems, Text, UnitTypeId } from '../http/schemas.ts';
import type { CommandPluginOptions } from '../plugins/incidents.ts';

/** Facts of a batch in flight at once: enough to keep the database busy, few enough not to crowd other requests. */
const BATCH_CONCURRENCY = 8;

class Semaphore {
  private waiting: Array<() => void> = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** A little slack for the importer's clock; a fact from the future is a mistake in the source. */
const FUTURE_SLACK_MS = 60_000;

const OccurredAt = Type.String({ format: 'date-time', description: 'Business time of the fact in the source (ISO 8601 with an offset)' });

const UnitBody = Closed({
  occurredAt: OccurredAt,
  callSign: Text(UNIT_LIMITS.callSign, { minLength: 1 }),
  agency: AgencyId,
  type: UnitTypeId,
  homeStation: Text(UNIT_LIMITS.homeStation, { minLength: 1 }),
  position: Type.Optional(Location),
});
const ReportBody = Closed({
  occurredAt: OccurredAt,
  type: IncidentTypeId,
  priority: Priority,
  location: Location,
  address: Type.Optional(Text(INCIDENT_LIMITS.address)),
  description: Type.Optional(Text(INCIDENT_LIMITS.description)),
  agencies: Type.Optional(Agencies),
});
const TriageBody = Closed({ occurredAt: OccurredAt, priority: Type.Optional(Priority), type: Type.Optional(IncidentTypeId), agencies: Type.Optional(Agencies) });
const AssignBody = Closed({ occurredAt: OccurredAt, unitId: Type.String({ minLength: 1, maxLength: 100 }) });
const UnitStatusBody = Closed({ occurredAt: OccurredAt, status: Type.Enum([...ASSIGNED_UNIT_STATUSES]), destination: Type.Optional(Text(UNIT_LIMITS.destination)) });
const ResolveBody = Closed({ occurredAt: OccurredAt, summary: Type.Optional(Text(INCIDENT_LIMITS.summary)) });
const CloseBody = Closed({ occurredAt: OccurredAt });
const CancelBody = Closed({ occurredAt: OccurredAt, reason: Text(INCIDENT_LIMITS.reason, { minLength: 1 }) });

const security = [{ bearerAuth: [] }];
const responses = (created = false) => ({ [created ? 201 : 200]: CommandResult, ...problems(400, 401, 403, 404, 409, 412, 422, 429, 503) });
const admin = (what: string) => allowRoles(['admin'], `import ${what} with their own business time`);

/** The body's business time, refused when it is not a real instant or lies in the future. */
function businessTime(request: FastifyRequest): string {
  return checkedTime((request.body as { occurredAt: string }).occurredAt);
}

function checkedTime(raw: string): string {
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw badRequest(`occurredAt "${raw}" is not a valid date and time.`, { field: 'occurredAt' });
  if (at > Date.now() + FUTURE_SLACK_MS) throw badRequest(`occurredAt ${raw} is in the future; an imported fact must already have happened.`, { field: 'occurredAt' });
  return new Date(at).toISOString();
}

const without = <T extends { occurredAt: string }>(body: T): Omit<T, 'occurredAt'> => {
  const { occurredAt: _, ...rest } = body;
  return rest;
};

const importPlugin: FastifyPluginAsync<CommandPluginOptions> = async (fastify, { store, sql }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/import/units',
    { onRequest: admin('units'), schema: { tags: ['import'], summary: 'Import a unit registration (admin)', security, headers: CommandHeaders, body: UnitBody, response: responses(true) } },
    (request, reply) => {
      const { callSign, agency, type, homeStation, position } = request.body;
      return runCommand(request, reply, sql, {
        occurredAt: businessTime(request),
        reserve: () => ({ unitId: newId() }),
        execute: async ({ meta, reserved }) => {
          const unitId = reserved.unitId ?? newId();
          const result = await handleCommand(store, units, unitId, { type: 'RegisterUnit', data: { unitId, agency, callSign, unitType: type, homeStation, ...(position && { position }) } }, meta);
          return { id: unitId, revision: result.revision, created: true, location: `/api/units/${unitId}` };
        },
      });
    },
  );

  app.post(
    '/api/import/incidents',
    { onRequest: admin('incidents'), schema: { tags: ['import'], summary: 'Import a reported incident (admin)', security, headers: CommandHeaders, body: ReportBody, response: responses(true) } },
    (request, reply) => {
      const body = without(request.body);
      return runCommand(request, reply, sql, {
        occurredAt: businessTime(request),
        reserve: () => ({ incidentId: newId() }),
        execute: async ({ meta, reserved }) => {
          const incidentId = reserved.incidentId ?? newId();
          const result = await handleCommand(
            store,
            incidents,
            incidentId,
            { type: 'ReportIncident', data: { incidentId, ...body, priority: body.priority as PriorityLevel, agencies: body.agencies as Agency[] | undefined, source: 'phone' } } as IncidentCommand,
            { ...meta, correlationId: incidentId },
          );
          return { id: incidentId, revision: result.revision, created: true, location: `/api/incidents/${incidentId}` };
        },
      });
    },
  );

  const simple = (path: string, summary: string, body: typeof TriageBody | typeof ResolveBody | typeof CloseBody | typeof CancelBody, command: (b: Record<string, unknown>) => IncidentCommand) =>
    app.post(
      `/api/import/incidents/:id/${path}`,
      { onRequest: admin('incident changes'), schema: { tags: ['import'], summary: `${summary} (admin import)`, security, headers: CommandHeaders, params: IdParams, body, response: responses() } },
      (request, reply) => {
        const incidentId = request.params.id;
        const data = without(request.body as { occurredAt: string });
        const reason = typeof (data as { reason?: unknown }).reason === 'string' ? (data as { reason: string }).reason : undefined;
        return runCommand(request, reply, sql, {
          occurredAt: businessTime(request),
          correlationId: incidentId,
          ...(reason !== undefined && { reason }),
          execute: async ({ meta, ifMatch }) => {
            const result = await handleCommand(store, incidents, incidentId, command(data), meta, {
              ...(ifMatch !== undefined && { ifMatch }),
              authorize: (state) => void existingIncident(state, incidentId),
            });
            return { id: incidentId, revision: result.revision };
          },
        });
      },
    );

  type Data<T extends IncidentCommand['type']> = Extract<IncidentCommand, { type: T }>['data'];
  simple('triage', 'Triage', TriageBody, (b) => ({ type: 'TriageIncident', data: b as Data<'TriageIncident'> }));
  simple('resolve', 'Resolve', ResolveBody, (b) => ({ type: 'ResolveIncident', data: b as Data<'ResolveIncident'> }));
  simple('close', 'Close', CloseBody, () => ({ type: 'CloseIncident', data: {} }));
  simple('cancel', 'Cancel', CancelBody, (b) => ({ type: 'CancelIncident', data: b as Data<'CancelIncident'> }));

  app.post(
    '/api/import/incidents/:id/assignments',
    {
      onRequest: admin('assignments'),
      schema: { tags: ['import'], summary: 'Import a unit assignment (admin)', security, headers: CommandHeaders, params: IdParams, body: AssignBody, response: responses() },
    },
    (request, reply) => {
      const incidentId = request.params.id;
      const { unitId } = request.body;
      return runCommand(request, reply, sql, {
        occurredAt: businessTime(request),
        correlationId: incidentId,
        execute: async ({ meta, ifMatch }) => {
          const result = await assignUnit(store, { incidentId, unitId, ...(ifMatch !== undefined && { ifMatch }) }, meta);
          return { id: incidentId, revision: result.incidentRevision, unitId, unitRevision: result.unitRevision };
        },
      });
    },
  );

  app.post(
    '/api/import/incidents/:id/units/:unitId/status',
    {
      onRequest: admin("units' statuses"),
      schema: { tags: ['import'], summary: "Import a unit's status on an incident (admin)", security, headers: CommandHeaders, params: IncidentUnitParams, body: UnitStatusBody, response: responses() },
    },
    (request, reply) => {
      const { id: incidentId, unitId } = request.params;
      const { status, destination } = request.body;
      return runCommand(request, reply, sql, {
        occurredAt: businessTime(request),
        correlationId: incidentId,
        execute: async ({ meta, ifMatch }) => {
          const result = await changeUnitStatus(store, { incidentId, unitId, status, ...(destination !== undefined && { destination }), ...(ifMatch !== undefined && { ifMatch }) }, meta);
          return { id: incidentId, revision: result.incidentRevision, unitId, unitRevision: result.unitRevision };
        },
      });
    },
  );

  app.post(
    '/api/import/batch',
    {
      onRequest: admin('facts'),
      // A batch is many facts; each item is still checked against its schema and limits.
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        tags: ['import'],
        summary: 'Import many facts in order, each with its own key and business time (admin)',
        description: 'Each item runs as its own command; a failed item is reported in its result and the rest still run. The same key again writes nothing new.',
        security,
        body: BatchBody,
        response: { 200: BatchResult, ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const actor = request.user;
      const items = request.body.items;
      const results: Array<{ key: string; status: number; id?: string; revision?: number; problem?: Record<string, unknown> }> = new Array(items.length);
      // Facts about different records run side by side; facts about the same incident or unit run in the
      // batch's order, each after the one before it.
      const last = new Map<string, Promise<void>>();
      const slots = new Semaphore(BATCH_CONCURRENCY);
      let unreachable: unknown;
      const runs = items.map((item, index) => {
        const records = [item.kind === 'register_unit' ? undefined : `incident:${item.incidentId}`, 'unitId' in item ? `unit:${item.unitId}` : undefined].filter((r): r is string => r !== undefined);
        const before = records.map((r) => last.get(r)).filter((p): p is Promise<void> => p !== undefined);
        const run = Promise.all(before).then(async () => {
          await slots.acquire();
          try {
            if (unreachable !== undefined) throw unreachable;
            const meta = {
              commandId: commandIdFor(actor.id, `import:${item.key}`),
              actor: actor.id,
              role: actor.role,
              agency: actor.agency,
              occurredAt: checkedTime(item.occurredAt),
              requestId: request.id,
              clientAddress: request.ip,
            };
            const outcome = await runImportItem(store, item, meta);
            results[index] = { key: item.key, status: outcome.created ? 201 : 200, id: outcome.id, revision: Number(outcome.revision) };
          } catch (error) {
            const { body } = problemFor(error, request);
            // The database going away fails the whole batch: the client retries it, and the keys make that safe.
            if (body.status >= 500) unreachable ??= error;
            results[index] = { key: item.key, status: body.status, problem: body };
          } finally {
            slots.release();
          }
        });
        for (const r of records) last.set(r, run);
        return run;
      });
      await Promise.all(runs);
      if (unreachable !== undefined) throw unreachable;
      const ok = results.filter((r) => r.status < 300).length;
      return { results, ok, failed: results.length - ok };
    },
  );
};

export default importPlugin;
