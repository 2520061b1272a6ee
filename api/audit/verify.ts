// Recomputes every hash of the event store and of the checkpoints, and names the first thing that does not hold.
import type { Sql } from 'postgres';
import { GENESIS_HASH, chainHash, contentHash, globalChainStep } from '../../eventstore/hashChain.ts';
import { eventHashHex, listCheckpoints, logAfter, signedPart, type Checkpoint } from './checkpoints.ts';
import { verifyAuditLog } from './auditLog.ts';
import { sign } from './secret.ts';

export type BreakKind = 'altered' | 'chain_broken' | 'missing' | 'unhashed';

export interface BrokenEvent {
  globalPosition: number;
  eventId: string;
  streamId: string;
  revision: number;
  problem: BreakKind;
  detail: string;
}

export interface BrokenCheckpoint {
  seq: number;
  problem: 'chain_mismatch' | 'bad_signature' | 'missing' | 'not_in_database' | 'differs_from_copy' | 'beyond_log';
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  verifiedAt: string;
  events: { checked: number; streams: number; broken: number; firstBroken: BrokenEvent | null };
  checkpoints: { checked: number; latest: Checkpoint | null; firstBroken: BrokenCheckpoint | null };
  auditLog: { checked: number; firstBroken: { seq: number; problem: string } | null };
  /** One sentence for people. */
  summary: string;
}

interface StreamRow {
  gpos: string;
  txid: string;
  id: string;
  stream: string;
  revision: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  content_hash: Buffer | null;
  prev_hash: Buffer | null;
  hash: Buffer | null;
}

const PAGE = 5000;
const KEEP = 100;

/** Every stream's chain, walked in (stream, revision) order by keyset pages over the primary unique index. */
export async function verifyStreams(sql: Sql): Promise<VerifyReport['events']> {
  const broken: Array<BrokenEvent & { txid: bigint }> = [];
  let brokenCount = 0;
  let checked = 0;
  let streams = 0;
  let current: string | undefined;
  let prev = GENESIS_HASH;
  let expected = 0n;
  let cursor: [string, string] = ['', '-1'];
  const report = (row: StreamRow, problem: BreakKind, detail: string) => {
    brokenCount++;
    broken.push({
      globalPosition: Number(row.gpos),
      txid: BigInt(row.txid),
      eventId: row.id,
      streamId: row.stream,
      revision: Number(row.revision),
      problem,
      detail,
    });
    // Only the earliest in log order is reported; keep a few to choose from.
    if (broken.length > KEEP * 2) {
      broken.sort(logOrder);
      broken.length = KEEP;
    }
  };
  for (;;) {
    const rows = await sql.unsafe<StreamRow[]>(
      `select global_position::text as gpos, transaction_id::text as txid, event_id::text as id, stream_id as stream,
              stream_revision::text as revision, type, data, metadata, content_hash, prev_hash, hash
         from events where (stream_id, stream_revision) > ($1::text, $2::bigint)
        order by stream_id, stream_revision limit ${PAGE}`,
      cursor,
      { prepare: true },
    );
    for (const row of rows) {
      checked++;
      if (row.stream !== current) {
        current = row.stream;
        streams++;
        prev = GENESIS_HASH;
        expected = 0n;
      }
      const revision = BigInt(row.revision);
      const where = `event ${row.id} (${row.stream} revision ${row.revision}, position ${row.gpos})`;
      if (!row.content_hash || !row.hash) {
        report(row, 'unhashed', `${where} has no hash: it was not written through the event store.`);
      } else {
        const stored = row.content_hash.toString('hex');
        const recomputed = contentHash({ id: row.id, streamId: row.stream, type: row.type, data: row.data, metadata: row.metadata });
        if (revision > expected) {
          report(row, 'missing', `${where}: the stream's revision${revision - expected > 1n ? `s ${expected}–${revision - 1n} are` : ` ${expected} is`} missing before it.`);
        } else if (stored !== recomputed) {
          report(row, 'altered', `${where} was changed after it was written: its type, data or metadata no longer match its hash.`);
        } else if (row.prev_hash?.toString('hex') !== prev || chainHash(prev, revision, stored) !== row.hash.toString('hex')) {
          report(row, 'chain_broken', `${where} no longer links to the event before it: events were moved, removed or inserted, or its hash was rewritten.`);
        }
      }
      prev = row.hash ? row.hash.toString('hex') : GENESIS_HASH;
      expected = revision + 1n;
    }
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1]!;
    cursor = [last.stream, last.revision];
  }
  broken.sort(logOrder);
  const first = broken[0];
  return {
    checked,
    streams,
    broken: brokenCount,
    firstBroken: first ? { globalPosition: first.globalPosition, eventId: first.eventId, streamId: first.streamId, revision: first.revision, problem: first.problem, detail: first.detail } : null,
  };
}

function logOrder(a: { txid: bigint; globalPosition: number }, b: { txid: bigint; globalPosition: number }): number {
  if (a.txid !== b.txid) return a.txid < b.txid ? -1 : 1;
  return a.globalPosition - b.globalPosition;
}

function samePosition(c: { txid: string; gpos: number }, row: { txid: string; gpos: string }): boolean {
  return c.txid === row.txid && String(c.gpos) === row.gpos;
}

/**
 * Recomputes the global running chain and compares it with every checkpoint: those in the database and, when
 * given, a copy kept elsewhere (which catches a database whose checkpoints were rewritten along with its events).
 */
export async function verifyCheckpoints(sql: Sql, key: Buffer, copy?: Checkpoint[]): Promise<VerifyReport['checkpoints']> {
  const stored = await listCheckpoints(sql);
  const latest = stored.at(-1) ?? null;
  let firstBroken: BrokenCheckpoint | null = null;
  const fail = (b: BrokenCheckpoint) => {
    if (!firstBroken || b.seq < firstBroken.seq) firstBroken = b;
  };
  for (const [index, c] of stored.entries()) {
    if (c.seq !== index + 1) fail({ seq: index + 1, problem: 'missing', detail: `Checkpoint ${index + 1} is missing from the database.` });
    if (sign(key, signedPart(c)) !== c.signature) fail({ seq: c.seq, problem: 'bad_signature', detail: `Checkpoint ${c.seq}'s signature does not match: it was not made by this system, or was changed.` });
  }
  const bySeq = new Map(stored.map((c) => [c.seq, c]));
  for (const kept of copy ?? []) {
    const here = bySeq.get(kept.seq);
    if (!here) fail({ seq: kept.seq, problem: 'not_in_database', detail: `Checkpoint ${kept.seq} of your copy is no longer in the database.` });
    else if (here.chain !== kept.chain || here.eventCount !== kept.eventCount || here.txid !== kept.txid || here.gpos !== kept.gpos) {
      fail({ seq: kept.seq, problem: 'differs_from_copy', detail: `Checkpoint ${kept.seq} in the database differs from your copy.` });
    }
  }
  // Every checkpoint to check against the recomputed chain, the copy's first (it is the one an insider cannot touch).
  const targets = [...(copy ?? []), ...stored].sort((a, b) => a.eventCount - b.eventCount);
  let chain = GENESIS_HASH;
  let count = 0;
  let t = 0;
  let previousEnd = 'the start of the log';
  for await (const rows of logAfter(sql, undefined)) {
    for (const row of rows) {
      chain = globalChainStep(chain, eventHashHex(row));
      count++;
      while (t < targets.length && targets[t]!.eventCount === count) {
        const target = targets[t]!;
        if (!samePosition(target, row) || target.chain !== chain) {
          fail({
            seq: target.seq,
            problem: 'chain_mismatch',
            detail: `The log between ${previousEnd} and checkpoint ${target.seq} (position ${target.gpos}) no longer matches it: events in that range were changed, removed, inserted or reordered.`,
          });
        }
        previousEnd = `checkpoint ${target.seq}`;
        t++;
      }
    }
  }
  for (; t < targets.length; t++) {
    const target = targets[t]!;
    fail({ seq: target.seq, problem: 'beyond_log', detail: `Checkpoint ${target.seq} covers ${target.eventCount} events but the log now holds only ${count}: events were removed.` });
  }
  return { checked: stored.length + (copy?.length ?? 0), latest, firstBroken };
}

export async function verifyAll(sql: Sql, key: Buffer, copy?: Checkpoint[]): Promise<VerifyReport> {
  const events = await verifyStreams(sql);
  const checkpoints = await verifyCheckpoints(sql, key, copy);
  const auditLog = await verifyAuditLog(sql);
  const ok = !events.firstBroken && !checkpoints.firstBroken && !auditLog.firstBroken;
  const summary = ok
    ? `Verified: ${events.checked} events in ${events.streams} streams, ${checkpoints.checked} checkpoints and ${auditLog.checked} audit log entries are intact.`
    : events.firstBroken
      ? `Broken: ${events.firstBroken.detail}${events.broken > 1 ? ` (${events.broken} events fail in all.)` : ''}`
      : checkpoints.firstBroken
        ? `Broken: ${(checkpoints.firstBroken as BrokenCheckpoint).detail}`
        : `Broken: audit log entry ${auditLog.firstBroken!.seq}: ${auditLog.firstBroken!.problem}.`;
  return { ok, verifiedAt: new Date().toISOString(), events, checkpoints, auditLog, summary };
}
