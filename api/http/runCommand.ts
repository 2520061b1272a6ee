import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import type { CommandMeta } from '../../domain/index.ts';
import { newId } from '../../eventstore/eventIds.ts';
import { ContendedError } from '../commands/errors.ts';
import { problemFor } from './errors.ts';
import { etagFor, parseIfMatch } from './etag.ts';
import { checkKey, claimKey, commandIdFor, requestHash, settleKey, type KeyedRequest, type StoredResponse } from './idempotency.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface CommandContext {
  meta: CommandMeta;
  /** From If-Match: the revision the client last saw of the record named by the URL. */
  ifMatch?: bigint;
  /** Ids this request creates; the same on every retry with the same Idempotency-Key. */
  reserved: Record<string, string>;
}

export interface CommandOutcome {
  /** The aggregate the URL names; `revision` is its stream's revision and becomes the ETag. */
  id: string;
  revision: bigint;
  created?: boolean;
  /** For 201 responses. */
  location?: string;
  /** Commands that also move a unit report where the unit's stream stands. */
  unitId?: string;
  unitRevision?: bigint;
  /** More to say in the body, e.g. likely duplicates of a new report; the route's response schema must name it. */
  extra?: Record<string, unknown>;
}

export interface CommandSpec {
  /** The incident the command concerns, carried as the events' correlation id. */
  correlationId?: string;
  reason?: string;
  /** Ids to create, e.g. `() => ({ incidentId: newId() })`. */
  reserve?: () => Record<string, string>;
  /**
   * Business time taken from the source instead of the server clock. Only the admin-only import routes
   * (api/import/) set it, from their body; every other command is stamped with the server's time.
   */
  occurredAt?: string;
  execute: (context: CommandContext) => Promise<CommandOutcome>;
}

function successResponse(outcome: CommandOutcome, commandId: string): StoredResponse {
  const headers: Record<string, string> = { 'content-type': JSON_CONTENT_TYPE, etag: etagFor(outcome.revision) };
  if (outcome.location) headers.location = outcome.location;
  return {
    status: outcome.created ? 201 : 200,
    headers,
    body: {
      id: outcome.id,
      revision: Number(outcome.revision),
      commandId,
      ...(outcome.unitId !== undefined && { unitId: outcome.unitId }),
      ...(outcome.unitRevision !== undefined && { unitRevision: Number(outcome.unitRevision) }),
      ...outcome.extra,
    },
  };
}

/**
 * A refusal worth remembering under an Idempotency-Key: the same request would be refused the same way.
 * Transient failures (contention, an unreachable database, a bug) are not, so a retry can still succeed.
 */
function rememberable(error: unknown, status: number): boolean {
  return status >= 400 && status < 500 && status !== 429 && !(error instanceof ContendedError);
}

function send(reply: FastifyReply, response: StoredResponse): void {
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
  reply.code(response.status).send(response.body);
}

/**
 * Runs one command for an HTTP request: metadata from the verified token and the server clock (a client never
 * sets the business time), If-Match, and Idempotency-Key (same key, same actor, same request → same answer,
 * one write).
 */
export async function runCommand(request: FastifyRequest, reply: FastifyReply, sql: Sql, spec: CommandSpec): Promise<void> {
  const actor = request.user;
  const ifMatchHeader = request.headers['if-match'];
  const ifMatch = parseIfMatch(ifMatchHeader);
  const rawKey = request.headers['idempotency-key'];
  const key = rawKey === undefined ? undefined : checkKey(Array.isArray(rawKey) ? rawKey.join(',') : rawKey);

  let reserved: Record<string, string>;
  let keyed: KeyedRequest | undefined;
  if (key !== undefined) {
    const path = request.url.split('?')[0] ?? request.url;
    const hash = requestHash({ method: request.method, path, body: request.body, ifMatch: Array.isArray(ifMatchHeader) ? ifMatchHeader.join(',') : ifMatchHeader });
    keyed = { actor: actor.id, key, method: request.method, path, hash };
    const claim = await claimKey(sql, keyed, spec.reserve ?? (() => ({})));
    if (claim.kind === 'replay') return send(reply, claim.response);
    reserved = claim.reserved;
  } else {
    reserved = spec.reserve?.() ?? {};
  }

  const commandId = key !== undefined ? commandIdFor(actor.id, key) : newId();
  const meta: CommandMeta = {
    commandId,
    actor: actor.id,
    role: actor.role,
    agency: actor.agency,
    occurredAt: spec.occurredAt ?? new Date().toISOString(),
    requestId: request.id,
    clientAddress: request.ip,
    ...(spec.correlationId !== undefined && { correlationId: spec.correlationId }),
    ...(spec.reason !== undefined && { reason: spec.reason }),
  };

  let response: StoredResponse;
  try {
    response = successResponse(await spec.execute({ meta, ...(ifMatch !== undefined && { ifMatch }), reserved }), commandId);
  } catch (error) {
    if (keyed === undefined) throw error;
    const { body, headers } = problemFor(error, request);
    if (!rememberable(error, body.status)) throw error;
    response = { status: body.status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...lower(headers ?? {}) }, body };
  }
  if (keyed !== undefined) response = await settleKey(sql, keyed, response);
  send(reply, response);
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
