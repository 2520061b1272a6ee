// The audit log: what is not an event but an auditor must still see — log-ins and failed log-ins, refused
// commands, auditors' reads, checkpoints and erasures. Append-only (a trigger refuses UPDATE and DELETE, and no
// route changes it) and hash-chained like the streams, so an edit made behind the API's back is found.
import type { Sql } from 'postgres';
import { GENESIS_HASH, canonicalJson, sha256Hex } from '../../eventstore/hashChain.ts';

export const AUDIT_KINDS = ['login', 'login_failed', 'command_refused', 'audit_read', 'erasure', 'checkpoint'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditEntryInput {
  kind: AuditKind;
  actor?: string | null;
  username?: string | null;
  role?: string | null;
  agency?: string | null;
  requestId?: string | null;
  clientAddress?: string | null;
  method?: string | null;
  path?: string | null;
  status?: number | null;
  detail?: string | null;
  data?: Record<string, unknown>;
}

export interface AuditEntry extends Required<Omit<AuditEntryInput, 'data'>> {
  seq: number;
  at: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

const AUDIT_LOG_LOCK = 7403871200196533n;

/** What an entry's hash covers: every column but the hash itself. */
export function auditEntryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(
    canonicalJson({
      seq: entry.seq,
      at: entry.at,
      kind: entry.kind,
      actor: entry.actor,
      username: entry.username,
      role: entry.role,
      agency: entry.agency,
      requestId: entry.requestId,
      clientAddress: entry.clientAddress,
      method: entry.method,
      path: entry.path,
      status: entry.status,
      detail: entry.detail,
      data: entry.data,
      prevHash: entry.prevHash,
    }),
  );
}

function toEntry(row: Record<string, unknown>): AuditEntry {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    seq: Number(row.seq),
    at: (row.at as Date).toISOString(),
    kind: row.kind as AuditKind,
    actor: text(row.actor),
    username: text(row.username),
    role: text(row.role),
    agency: text(row.agency),
    requestId: text(row.request_id),
    clientAddress: text(row.client_address),
    method: text(row.method),
    path: text(row.path),
    status: row.status === null || row.status === undefined ? null : Number(row.status),
    detail: text(row.detail),
    data: (row.data ?? {}) as Record<string, unknown>,
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  };
}

export async function recordAudit(sql: Sql, input: AuditEntryInput): Promise<AuditEntry> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${AUDIT_LOG_LOCK.toString()}::bigint)`;
    const [last] = await tx<{ seq: string; hash: string }[]>`select seq::text as seq, hash from audit_log order by audit_log.seq desc limit 1`;
    const base: Omit<AuditEntry, 'hash'> = {
      seq: last ? Number(last.seq) + 1 : 1,
      at: new Date().toISOString(),
      kind: input.kind,
      actor: input.actor ?? null,
      username: input.username ?? null,
      role: input.role ?? null,
      agency: input.agency ?? null,
      requestId: input.requestId ?? null,
      clientAddress: input.clientAddress ?? null,
      method: input.method ?? null,
      path: input.path ?? null,
      status: input.status ?? null,
      detail: input.detail ?? null,
      data: JSON.parse(JSON.stringify(input.data ?? {})) as Record<string, unknown>,
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const entry: AuditEntry = { ...base, hash: auditEntryHash(base) };
    await tx`
      insert into audit_log (seq, at, kind, actor, username, role, agency, request_id, client_address, method, path, status, detail, data, prev_hash, hash)
      values (${entry.seq}, ${entry.at}, ${entry.kind}, ${entry.actor}, ${entry.username}, ${entry.role}, ${entry.agency}, ${entry.requestId},
              ${entry.clientAddress}, ${entry.method}, ${entry.path}, ${entry.status}, ${entry.detail}, ${tx.json(entry.data as never)},
              ${entry.prevHash}, ${entry.hash})`;
    return entry;
  });
}

export interface AuditLogQuery {
  kind?: AuditKind;
  actor?: string;
  /** Entries after this seq (paging). */
  after?: number;
  limit?: number;
}

export async function readAuditLog(sql: Sql, q: AuditLogQuery = {}): Promise<AuditEntry[]> {
  const rows = await sql`
    select * from audit_log
     where seq > ${q.after ?? 0}
       ${q.kind ? sql`and kind = ${q.kind}` : sql``}
       ${q.actor ? sql`and (actor = ${q.actor} or username = ${q.actor})` : sql``}
     order by seq
     limit ${q.limit ?? 100}`;
  return rows.map(toEntry);
}

/** Walks the whole audit log; the first entry whose hash or link does not hold, if any. */
export async function verifyAuditLog(sql: Sql): Promise<{ checked: number; firstBroken: { seq: number; problem: string } | null }> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (let after = 0; ; ) {
    const rows = (await sql`select * from audit_log where seq > ${after} order by seq limit 2000`).map(toEntry);
    for (const entry of rows) {
      checked++;
      if (entry.seq !== expectedSeq) return { checked, firstBroken: { seq: entry.seq, problem: `audit log entry ${expectedSeq} is missing` } };
      if (entry.prevHash !== prev) return { checked, firstBroken: { seq: entry.seq, problem: 'the link to the previous entry is broken' } };
      const { hash, ...rest } = entry;
      if (auditEntryHash(rest) !== hash) return { checked, firstBroken: { seq: entry.seq, problem: 'the entry was changed after it was written' } };
      prev = hash;
      expectedSeq++;
    }
    if (rows.length < 2000) return { checked, firstBroken: null };
    after = rows[rows.length - 1]!.seq;
  }
}
