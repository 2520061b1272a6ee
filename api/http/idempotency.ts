import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { nameBasedId } from '../../eventstore/eventIds.ts';
import { Coalescer } from '../../eventstore/coalescer.ts';
import { HttpProblem } from './problem.ts';

/** Fixed forever: a retry must derive the same command id as the original request did. */
const IDEMPOTENCY_NAMESPACE = '0d7f3a52-2b8e-4f61-9c1d-7e5a4b3c2f10';

export const MAX_KEY_LENGTH = 255;

/** A finished answer, stored so a retry gets exactly the same one. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * The command id of a request with an Idempotency-Key. Derived, not random, so two retries racing each
 * other carry the same command id and the store writes the command once.
 */
export function commandIdFor(actorId: string, key: string): string {
  return nameBasedId(JSON.stringify([actorId, key]), IDEMPOTENCY_NAMESPACE);
}

/** Key order in a JSON body carries no meaning, so it must not make a retry look like a different request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value ?? null;
}

export function requestHash(parts: { method: string; path: string; body: unknown; ifMatch: string | undefined }): string {
  return createHash('sha256')
    .update(JSON.stringify([parts.method, parts.path, canonical(parts.body), parts.ifMatch ?? null]))
    .digest('hex');
}

export function checkKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new HttpProblem(400, 'invalid-idempotency-key', 'Bad KeyedRequest', `The Idempotency-Key must be 1-${MAX_KEY_LENGTH} visible ASCII characters.`, { field: 'idempotency-key' });
  }
  return key;
}

interface KeyRow {
  method: string;
  path: string;
  request_hash: string;
  status_code: number;
  headers: Record<string, string>;
  body: unknown;
}

/** status_code 0 marks a key whose request has started but not finished; its body holds the ids it reserved. */
const PENDING = 0;

export type Claim = { kind: 'replay'; response: StoredResponse } | { kind: 'proceed'; reserved: Record<string, string> };

/** A request that carries an Idempotency-Key: who sent it, the key, and what it asked. */
export interface KeyedRequest {
  actor: string;
  key: string;
  method: string;
  path: string;
  hash: string;
}

/**
 * Claims a key for a request. The first request records the ids it will create (a new incident's id), so a
 * retry after a crash or a racing duplicate creates the same ids and the store's command-id check makes the
 * write happen once. A finished key replays its answer; a key used for another request is refused.
 */
export async function claimKey(sql: Sql, request: KeyedRequest, reserve: () => Record<string, string>): Promise<Claim> {
  const reserved = reserve();
  if (await writersOf(sql).claims.run({ ...request, reserved })) return { kind: 'proceed', reserved };

  const [row] = await sql<KeyRow[]>`
    select method, path, request_hash, status_code, headers, body from idempotency_keys where actor = ${request.actor} and key = ${request.key}`;
  if (!row) return { kind: 'proceed', reserved };
  if (row.request_hash !== request.hash || row.method !== request.method || row.path !== request.path) {
    throw new HttpProblem(
      422,
      'idempotency-key-reused',
      'Unprocessable Content',
      `This Idempotency-Key was already used for a different request (${row.method} ${row.path}); use a new key for a new request.`,
      { field: 'idempotency-key' },
    );
  }
  if (row.status_code === PENDING) {
    const earlier = (row.body as { reserved?: Record<string, string> } | null)?.reserved ?? {};
    return { kind: 'proceed', reserved: earlier };
  }
  return { kind: 'replay', response: { status: row.status_code, headers: row.headers, body: row.body } };
}

/**
 * Records the answer. If a racing duplicate finished first, its answer wins and is returned, so every
 * request with this key sees the same one.
 */
export async function settleKey(sql: Sql, request: KeyedRequest, response: StoredResponse): Promise<StoredResponse> {
  if (await writersOf(sql).settles.run({ ...request, response })) return response;
  const [row] = await sql<KeyRow[]>`select status_code, headers, body from idempotency_keys where actor = ${request.actor} and key = ${request.key}`;
  return row ? { status: row.status_code, headers: row.headers, body: row.body } : response;
}

type Claiming = KeyedRequest & { reserved: Record<string, string> };
type Settling = KeyedRequest & { response: StoredResponse };

const keyOf = (item: { actor: string; key: string }) => JSON.stringify([item.actor, item.key]);

/**
 * Claims and settles of concurrent requests, each kind written as one statement per batch (see coalescer.ts).
 * Each answers whether its row was written: a claim that found the key taken, or a settle that found it already
 * settled, goes on to read the row on its own as before.
 */
function makeWriters(sql: Sql) {
  return {
    claims: new Coalescer<Claiming, boolean>(async (items) => {
      const rows = JSON.stringify(items.map((i) => ({ key: i.key, actor: i.actor, method: i.method, path: i.path, hash: i.hash, body: { reserved: i.reserved } })));
      const inserted = await sql<Array<{ actor: string; key: string }>>`
        insert into idempotency_keys (key, actor, method, path, request_hash, status_code, headers, body)
        select key, actor, method, path, hash, ${PENDING}, '{}'::jsonb, body
          from json_to_recordset(${rows}::text::json) as t(key text, actor text, method text, path text, hash text, body jsonb)
        on conflict (actor, key) do nothing
        returning actor, key`;
      const written = new Set(inserted.map(keyOf));
      return items.map((i) => written.has(keyOf(i)));
    }, keyOf),
    settles: new Coalescer<Settling, boolean>(async (items) => {
      // An upsert, not an UPDATE … FROM: its conflict check probes the primary key for each row whatever the
      // planner believes. The join of the UPDATE was planned on the table's statistics, and on a young, fast-growing
      // table (a new database, before autovacuum has analysed it) those said "a few rows": a hash join over a
      // sequential scan of every key, 4–20 ms a batch at 10k keys in the live bench. The row claimed for the key is
      // updated only while pending; a racing duplicate that settled first keeps its answer (no row comes back).
      // The claimed row is always there; were it not, the answer is stored with the request it answers.
      const updated = await sql<Array<{ actor: string; key: string }>>`
        insert into idempotency_keys as k (key, actor, method, path, request_hash, status_code, headers, body)
        select i.key, i.actor, i.method, i.path, i.hash, i.status, i.headers::jsonb, i.body::jsonb
          from unnest(${items.map((i) => i.actor)}::text[], ${items.map((i) => i.key)}::text[], ${items.map((i) => i.method)}::text[],
                      ${items.map((i) => i.path)}::text[], ${items.map((i) => i.hash)}::text[], ${items.map((i) => i.response.status)}::int[],
                      ${items.map((i) => JSON.stringify(i.response.headers))}::text[], ${items.map((i) => JSON.stringify(i.response.body ?? null))}::text[])
               as i(actor, key, method, path, hash, status, headers, body)
        on conflict (actor, key) do update
           set status_code = excluded.status_code, headers = excluded.headers, body = excluded.body
         where k.status_code = ${PENDING}
        returning k.actor, k.key`;
      const written = new Set(updated.map(keyOf));
      return items.map((i) => written.has(keyOf(i)));
    }, keyOf),
  };
}

const writers = new WeakMap<Sql, ReturnType<typeof makeWriters>>();

function writersOf(sql: Sql): ReturnType<typeof makeWriters> {
  let found = writers.get(sql);
  if (!found) {
    found = makeWriters(sql);
    writers.set(sql, found);
  }
  return found;
}
