// Writes the audit log entries that are not events: log-ins and failed log-ins, refused commands (403, and
// 409/412 on writes) with who and why, and auditors' and admins' reads of histories, exports, past states and
// the audit itself. Registered before every route so its hook sees them all.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import type { Actor } from '../auth/actor.ts';
import { recordAudit, type AuditEntryInput } from '../audit/auditLog.ts';

export interface AuditTrailOptions {
  sql: Sql;
}

/** Reads worth an entry when an auditor or admin makes them. */
const AUDITED_READS = new Set([
  '/api/incidents/:id/history',
  '/api/incidents/:id/export',
  '/api/incidents/:id/state',
  '/api/city',
  '/api/audit/log',
  '/api/audit/verify',
  '/api/audit/checkpoints',
]);

function parsePayload(payload: unknown): Record<string, unknown> | undefined {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return undefined;
  try {
    const value = JSON.parse(payload.toString()) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function who(request: FastifyRequest): Pick<AuditEntryInput, 'actor' | 'username' | 'role' | 'agency'> {
  const user = (request as { user?: Partial<Actor> }).user;
  if (!user || typeof user.id !== 'string') return {};
  return { actor: user.id, username: user.username ?? null, role: user.role ?? null, agency: user.agency ?? null };
}

export function auditEntryFor(request: FastifyRequest, status: number, payload: unknown): AuditEntryInput | undefined {
  const route = request.routeOptions.url;
  const path = (request.url.split('?')[0] ?? request.url).slice(0, 500);
  const base = { requestId: request.id, clientAddress: request.ip, method: request.method, path, status };
  if (route === '/api/auth/login' && request.method === 'POST') {
    const body = parsePayload(payload);
    const username = typeof (request.body as { username?: unknown } | undefined)?.username === 'string' ? (request.body as { username: string }).username.slice(0, 64) : null;
    if (status === 200) {
      const user = (body?.user ?? {}) as Record<string, unknown>;
      return { ...base, kind: 'login', actor: String(user.id ?? ''), username: String(user.username ?? username ?? ''), role: String(user.role ?? ''), agency: String(user.agency ?? '') };
    }
    if (status === 401 || status === 429 || status === 400) {
      return { ...base, kind: 'login_failed', username, detail: typeof body?.detail === 'string' ? body.detail : null };
    }
    return undefined;
  }
  if (status === 403 || ((status === 409 || status === 412) && request.method !== 'GET' && request.method !== 'HEAD')) {
    const body = parsePayload(payload);
    return {
      ...base,
      ...who(request),
      kind: 'command_refused',
      detail: typeof body?.detail === 'string' ? body.detail : null,
      data: { route: route ?? null, type: body?.type ?? null, ...(body?.state !== undefined && { state: body.state }) },
    };
  }
  if (status >= 200 && status < 300 && request.method === 'GET' && route && AUDITED_READS.has(route)) {
    const actor = who(request);
    if (actor.role !== 'auditor' && actor.role !== 'admin') return undefined;
    return { ...base, ...actor, kind: 'audit_read', data: { route, query: (request.query ?? {}) as Record<string, unknown> } };
  }
  return undefined;
}

const auditTrail: FastifyPluginAsync<AuditTrailOptions> = async (app, { sql }) => {
  const pending = new Set<Promise<unknown>>();
  // Not async: some handlers (runCommand) send the reply and return, and Fastify must not see a reply still
  // unsent when they do. The entry is written alongside the response; readers of the log in this process
  // wait for writes in flight (see flushAuditTrail), so a client that has its answer finds the entry.
  app.addHook('onSend', (request, reply, payload, done) => {
    const entry = auditEntryFor(request, reply.statusCode, payload);
    if (entry) {
      const write = recordAudit(sql, entry)
        .catch((error) => request.log.error({ err: error, kind: entry.kind }, 'could not write the audit log'))
        .finally(() => pending.delete(write));
      pending.add(write);
    }
    done(null, payload);
  });
  app.decorate('flushAuditTrail', async () => {
    await Promise.allSettled([...pending]);
  });
  app.addHook('onClose', async () => {
    await Promise.allSettled([...pending]);
  });
};

declare module 'fastify' {
  interface FastifyInstance {
    /** Resolves when every audit log entry this process has begun writing is written. */
    flushAuditTrail(): Promise<void>;
  }
}

// Not encapsulated: its hook must see every route registered after it.
(auditTrail as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export default auditTrail;
