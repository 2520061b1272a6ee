// Checkpoints over the global log: a running chain over every event hash in log order, signed. Kept outside
// the database (GET /api/audit/checkpoints, saved by the operator), they reveal a log rewritten wholesale —
// hashes recomputed and all — which the per-stream chains alone cannot.
import type { Sql } from 'postgres';
import { GENESIS_HASH, globalChainStep } from '../../eventstore/hashChain.ts';
import { LOG_HORIZON } from '../../eventstore/postgres.ts';
import { sign } from './secret.ts';

export interface Checkpoint {
  seq: number;
  /** Log position of the last event covered: transaction id and global position. */
  txid: string;
  gpos: number;
  eventCount: number;
  chain: string;
  createdAt: string;
  signature: string;
}

const CHECKPOINT_LOCK = 7403871200196532n;
const PAGE = 5000;

export interface LogRow {
  txid: string;
  gpos: string;
  id: string;
  hash: Buffer | null;
}

export function signedPart(c: Pick<Checkpoint, 'seq' | 'txid' | 'gpos' | 'eventCount' | 'chain'>) {
  return { kind: 'citybrain-checkpoint/1', seq: c.seq, txid: c.txid, gpos: c.gpos, eventCount: c.eventCount, chain: c.chain };
}

/** The hash an event contributes to the global chain; an unhashed event contributes zeros (and fails verify). */
export function eventHashHex(row: { hash: Buffer | null }): string {
  return row.hash ? row.hash.toString('hex') : GENESIS_HASH;
}

/**
 * Pages through the global log after a position, in log order, below the log's horizon (the same
 * visibility rule the store's readAll uses, so a late commit is never overtaken).
 */
export async function* logAfter(sql: Sql, from: { txid: string; gpos: number } | undefined): AsyncGenerator<LogRow[]> {
  let txid = from?.txid ?? '0';
  let gpos = String(from?.gpos ?? 0);
  for (;;) {
    const rows = await sql.unsafe<LogRow[]>(
      `select transaction_id::text as txid, global_position::text as gpos, event_id::text as id, hash from events
        where transaction_id < ${LOG_HORIZON}
          and (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
        order by transaction_id, global_position limit ${PAGE}`,
      [txid, gpos],
      { prepare: true },
    );
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    txid = last.txid;
    gpos = last.gpos;
    if (rows.length < PAGE) return;
  }
}

function toCheckpoint(row: Record<string, unknown>): Checkpoint {
  return {
    seq: Number(row.seq),
    txid: String(row.txid),
    gpos: Number(row.gpos),
    eventCount: Number(row.event_count),
    chain: String(row.chain),
    createdAt: (row.created_at as Date).toISOString(),
    signature: String(row.signature),
  };
}

export async function listCheckpoints(sql: Sql): Promise<Checkpoint[]> {
  const rows = await sql`select seq, txid::text as txid, gpos, event_count, chain, created_at, signature from audit_checkpoints order by seq`;
  return rows.map(toCheckpoint);
}

/**
 * Extends the chain from the last checkpoint over the events committed since, and signs the result.
 * Returns the new checkpoint, or the last one when no event has been committed since.
 */
export async function createCheckpoint(sql: Sql, key: Buffer): Promise<Checkpoint | undefined> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${CHECKPOINT_LOCK.toString()}::bigint)`;
    const [lastRow] = await tx`select seq, txid::text as txid, gpos, event_count, chain, created_at, signature from audit_checkpoints order by seq desc limit 1`;
    const last = lastRow ? toCheckpoint(lastRow) : undefined;
    let chain = last?.chain ?? GENESIS_HASH;
    let count = last?.eventCount ?? 0;
    let end: { txid: string; gpos: number } | undefined;
    for await (const rows of logAfter(tx as unknown as Sql, last)) {
      for (const row of rows) chain = globalChainStep(chain, eventHashHex(row));
      count += rows.length;
      const tail = rows[rows.length - 1]!;
      end = { txid: tail.txid, gpos: Number(tail.gpos) };
    }
    if (!end) return last;
    const next = { seq: (last?.seq ?? 0) + 1, txid: end.txid, gpos: end.gpos, eventCount: count, chain };
    const signature = sign(key, signedPart(next));
    const [row] = await tx`
      insert into audit_checkpoints (seq, txid, gpos, event_count, chain, signature)
      values (${next.seq}, ${next.txid}::text::xid8, ${next.gpos}, ${next.eventCount}, ${next.chain}, ${signature})
      returning seq, txid::text as txid, gpos, event_count, chain, created_at, signature`;
    return toCheckpoint(row!);
  });
}
