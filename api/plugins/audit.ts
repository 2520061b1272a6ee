// The auditor's tools: verify the whole record, read the audit log, keep checkpoints outside the database,
// export an incident's record (JSON, CSV, signed bundle), and erase an incident's personal data (admin).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import { incidentLabel, incidentStream } from '../../domain/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { allowRoles } from '../auth/guards.ts';
import { AUDIT_KINDS, readAuditLog, recordAudit, type AuditKind } from '../audit/auditLog.ts';
import { createCheckpoint, listCheckpoints } from '../audit/checkpoints.ts';
import { incidentBundle, incidentRecord, recordCsv } from '../audit/exports.ts';
import type { PersonalDataVault } from '../audit/personalData.ts';
import { verifyAll } from '../audit/verify.ts';
import { forgetLoaded } from '../commands/commandHandler.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { Closed, Id, IdParams, Nullable, problems, Text } from '../http/schemas.ts';

export interface AuditPluginOptions {
  sql: Sql;
  store: EventStore;
  vault: PersonalDataVault;
  /** Signs checkpoints and export bundles (see api/audit/secret.ts). */
  signingKey: Buffer;
  /** How often a checkpoint is taken over the global log; 0 turns the timer off (POST /api/audit/checkpoints still works). */
  checkpointEveryMs?: number;
}

const security = [{ bearerAuth: [] }];
const readers = allowRoles(['auditor', 'admin'], 'read the audit trail');

const CheckpointShape = Closed({
  seq: Type.Integer(),
  txid: Type.String(),
  gpos: Type.Integer(),
  eventCount: Type.Integer(),
  chain: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  signature: Type.String(),
});

const BrokenEvent = Closed({
  globalPosition: Type.Integer(),
  eventId: Type.String(),
  streamId: Type.String(),
  revision: Type.Integer(),
  problem: Type.String(),
  detail: Type.String(),
});

const VerifyReport = Closed({
  ok: Type.Boolean(),
  verifiedAt: Type.String({ format: 'date-time' }),
  summary: Type.String(),
  events: Closed({ checked: Type.Integer(), streams: Type.Integer(), broken: Type.Integer(), firstBroken: Nullable(BrokenEvent) }),
  checkpoints: Closed({
    checked: Type.Integer(),
    latest: Nullable(CheckpointShape),
    firstBroken: Nullable(Closed({ seq: Type.Integer(), problem: Type.String(), detail: Type.String() })),
  }),
  auditLog: Closed({ checked: Type.Integer(), firstBroken: Nullable(Closed({ seq: Type.Integer(), problem: Type.String() })) }),
});

const AuditEntry = Closed({
  seq: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  kind: Type.String(),
  actor: Nullable(Type.String()),
  username: Nullable(Type.String()),
  role: Nullable(Type.String()),
  agency: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
  clientAddress: Nullable(Type.String()),
  method: Nullable(Type.String()),
  path: Nullable(Type.String()),
  status: Nullable(Type.Integer()),
  detail: Nullable(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
});

const AuditLogQuery = Closed({
  kind: Type.Optional(Type.Enum([...AUDIT_KINDS])),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

const ExportQuery = Closed({ format: Type.Optional(Type.Enum(['json', 'csv', 'bundle'], { description: 'json (default), csv, or a signed bundle for offline verification' })) });
const EraseBody = Closed({ reason: Text(500, { minLength: 1 }) });
const Erased = Closed({ incidentId: Id, erasedAt: Type.String({ format: 'date-time' }), erasedBy: Type.String(), reason: Type.String() });

const conflict = (detail: string, extensions: Record<string, unknown> = {}) => new HttpProblem(409, 'conflict', 'Conflict', detail, extensions);

const audit: FastifyPluginAsync<AuditPluginOptions> = async (fastify, options) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { sql, store, vault, signingKey } = options;

  const requireIncident = async (id: string) => {
    const [first] = await store.readStream(incidentStream(id), { maxCount: 1 });
    if (!first) throw notFound(`There is no incident ${incidentLabel(id)} (${id}).`, { incidentId: id });
  };

  app.get(
    '/api/audit/verify',
    {
      onRequest: readers,
      schema: {
        tags: ['audit'],
        summary: 'Recompute every hash (events, checkpoints, audit log) and name the first broken one, if any',
        security,
        response: { 200: VerifyReport, ...problems(401, 403, 429, 503) },
      },
    },
    async () => {
      await app.flushAuditTrail?.();
      return verifyAll(sql, signingKey);
    },
  );

  app.get(
    '/api/audit/log',
    {
      onRequest: readers,
      schema: {
        tags: ['audit'],
        summary: 'The audit log: log-ins, failed log-ins, refused commands, auditors’ reads, erasures — oldest first',
        security,
        querystring: AuditLogQuery,
        response: { 200: Closed({ items: Type.Array(AuditEntry) }), ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const q = request.query;
      await app.flushAuditTrail?.();
      return {
        items: await readAuditLog(sql, {
          ...(q.kind !== undefined && { kind: q.kind as AuditKind }),
          ...(q.actor !== undefined && { actor: q.actor }),
          ...(q.after !== undefined && { after: q.after }),
          limit: q.limit ?? 100,
        }),
      };
    },
  );

  app.get(
    '/api/audit/checkpoints',
    {
      onRequest: readers,
      schema: {
        tags: ['audit'],
        summary: 'Every signed checkpoint over the global log: save them outside the database and pass them to npm run audit:verify',
        security,
        response: { 200: Closed({ checkpoints: Type.Array(CheckpointShape) }), ...problems(401, 403, 429, 503) },
      },
    },
    async () => ({ checkpoints: await listCheckpoints(sql) }),
  );

  app.post(
    '/api/audit/checkpoints',
    {
      onRequest: allowRoles(['admin'], 'take audit checkpoints'),
      schema: {
        tags: ['audit'],
        summary: 'Take a checkpoint now over every event committed since the last one (admin)',
        security,
        body: Type.Optional(Closed({})),
        response: { 200: Closed({ checkpoint: Nullable(CheckpointShape) }), ...problems(400, 401, 403, 429, 503) },
      },
    },
    async () => ({ checkpoint: (await createCheckpoint(sql, signingKey)) ?? null }),
  );

  app.get(
    '/api/incidents/:id/export',
    {
      onRequest: readers,
      schema: {
        tags: ['audit'],
        summary: "An incident's full record: JSON, CSV, or a signed bundle the verify tool checks offline",
        security,
        params: IdParams,
        querystring: ExportQuery,
        response: {
          200: Type.Unknown({ description: 'JSON record, CSV text (text/csv) or signed bundle' }),
          ...problems(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await requireIncident(id);
      const format = request.query.format ?? 'json';
      const filename = `incident-${id}${format === 'bundle' ? '.bundle' : ''}.${format === 'csv' ? 'csv' : 'json'}`;
      reply.header('content-disposition', `attachment; filename="${filename}"`);
      if (format === 'bundle') return incidentBundle(sql, vault, signingKey, id, request.user.id);
      const record = await incidentRecord(sql, vault, id);
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(recordCsv(record));
      return record;
    },
  );

  app.post(
    '/api/incidents/:id/erase-personal-data',
    {
      onRequest: allowRoles(['admin'], "erase an incident's personal data"),
      schema: {
        tags: ['audit'],
        summary: "Lawful erasure: destroy the incident's personal-data key (reporter name and phone); the audit trail stays intact",
        security,
        params: IdParams,
        body: EraseBody,
        response: { 200: Erased, ...problems(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { reason } = request.body;
      await requireIncident(id);
      const before = await vault.keyFor(id);
      if (!before) throw conflict(`Incident ${incidentLabel(id)} holds no personal data: nothing to erase.`, { incidentId: id });
      const { erased, erasedAt } = await vault.erase(id, request.user.id, reason);
      // The command side keeps folded incidents in memory (api/commands/stateCache.ts); this one's held the contact.
      forgetLoaded(store, incidentStream(id));
      if (!erased) {
        throw conflict(`The personal data of incident ${incidentLabel(id)} was already erased on ${erasedAt.toISOString()}.`, { incidentId: id, erasedAt: erasedAt.toISOString() });
      }
      await recordAudit(sql, {
        kind: 'erasure',
        actor: request.user.id,
        username: request.user.username,
        role: request.user.role,
        agency: request.user.agency,
        requestId: request.id,
        clientAddress: request.ip,
        method: request.method,
        path: request.url.split('?')[0] ?? request.url,
        status: 200,
        detail: reason,
        data: { incidentId: id, fields: ['reporter.name', 'reporter.phone'] },
      });
      return { incidentId: id, erasedAt: erasedAt.toISOString(), erasedBy: request.user.id, reason };
    },
  );

  const every = options.checkpointEveryMs ?? 0;
  if (every > 0) {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> | undefined;
    app.addHook('onReady', async () => {
      timer = setInterval(() => {
        running ??= createCheckpoint(sql, signingKey)
          .catch((error) => app.log.warn({ err: error }, 'could not take an audit checkpoint'))
          .finally(() => (running = undefined));
      }, every);
      timer.unref();
    });
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await running;
    });
  }
};

export default audit;
