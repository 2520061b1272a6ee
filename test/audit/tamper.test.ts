// Acceptance 2: tampering with any one stored event — its data, its metadata, or its place in the order — is
// detected by GET /api/audit/verify and located; so is a global reorder, against the signed checkpoints.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditKey } from '../../api/audit/secret.ts';
import { verifyAll } from '../../api/audit/verify.ts';
import { GENESIS_HASH, chainHash, contentHash } from '../../eventstore/hashChain.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { incident, ok, unit } from './support.ts';

let server: TestServer;
let auditor: string;
const kind = process.env.DATABASE_URL ? 'postgres' : 'pglite';

interface Row {
  gpos: string;
  id: string;
  stream: string;
  revision: string;
}

beforeAll(async () => {
  server = await startTestServer();
  auditor = await server.login('auditor');
  const units = [await unit(server, 'police', 'P-1', 'patrol_car'), await unit(server, 'police', 'P-2', 'patrol_car')];
  for (let i = 0; i < 4; i++) {
    const id = await incident(server, 'dispatcher.police', { type: 'public_order', reporter: { name: `Reporter ${i}`, phone: `1380000000${i}` } });
    await ok(server, 'dispatcher.police', `/api/incidents/${id}/triage`, { priority: 2 });
    await ok(server, 'dispatcher.police', `/api/incidents/${id}/notes`, { text: `note ${i}` });
    if (i < 2) {
      await ok(server, 'dispatcher.police', `/api/incidents/${id}/assignments`, { unitId: units[i] });
      await ok(server, 'supervisor.police', `/api/incidents/${id}/units/${units[i]}/status`, { status: 'en_route' });
      await ok(server, 'supervisor.police', `/api/incidents/${id}/units/${units[i]}/status`, { status: 'cleared' });
    }
  }
  await server.settle();
  const taken = await server.call('POST', '/api/audit/checkpoints', { token: await server.login('admin'), body: {} });
  expect(taken.status, JSON.stringify(taken.body)).toBe(200);
}, 120_000);
afterAll(async () => {
  await server?.close();
});

async function verify() {
  const r = await server.call('GET', '/api/audit/verify', { token: auditor });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function rows(): Promise<Row[]> {
  return server.sql<Row[]>`select global_position::text as gpos, event_id::text as id, stream_id as stream, stream_revision::text as revision from events order by global_position`;
}

describe(`tamper evidence (${kind})`, () => {
  it('verifies an untouched store, and only auditors and admins may ask', async () => {
    const report = await verify();
    expect(report.ok).toBe(true);
    expect(report.summary).toMatch(/^Verified/);
    expect(report.events.checked).toBe((await rows()).length);
    expect(report.events.firstBroken).toBeNull();
    expect(report.checkpoints.latest).toMatchObject({ seq: 1, eventCount: report.events.checked });
    const dispatcher = await server.call('GET', '/api/audit/verify', { token: await server.login('dispatcher.police') });
    expect(dispatcher.status).toBe(403);
  });

  it('names the event whose data, metadata or place was changed directly in the database, whichever event it is', async () => {
    const all = await rows();
    const multi = all.filter((r) => all.some((o) => o.stream === r.stream && o.revision !== r.revision));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: all.length - 1 }), fc.constantFrom('data', 'metadata', 'type', 'order', 'delete'), async (index, how) => {
        const pool = how === 'order' || how === 'delete' ? multi : all;
        const target = pool[index % pool.length]!;
        let expected: string[] = [target.id];
        if (how === 'data') {
          await server.sql`update events set data = data || '{"tampered": true}'::jsonb where event_id = ${target.id}::uuid`;
        } else if (how === 'metadata') {
          await server.sql`update events set metadata = jsonb_set(metadata, '{actor}', '"someone-else"') where event_id = ${target.id}::uuid`;
        } else if (how === 'type') {
          await server.sql`update events set type = 'IncidentNoteAdded' || type where event_id = ${target.id}::uuid`;
        } else if (how === 'order') {
          // Swap it with the next (or previous) event of its stream.
          const siblings = all.filter((r) => r.stream === target.stream).sort((a, b) => Number(a.revision) - Number(b.revision));
          const at = siblings.findIndex((r) => r.id === target.id);
          const other = siblings[at + 1] ?? siblings[at - 1]!;
          expected = [target.id, other.id];
          await server.sql.begin(async (tx) => {
            await tx`update events set stream_revision = -1 where event_id = ${target.id}::uuid`;
            await tx`update events set stream_revision = ${target.revision}::bigint where event_id = ${other.id}::uuid`;
            await tx`update events set stream_revision = ${other.revision}::bigint where event_id = ${target.id}::uuid`;
          });
        }
        let saved: Record<string, unknown>[] = [];
        if (how === 'delete') {
          saved = await server.sql`select * from events where event_id = ${target.id}::uuid`;
          await server.sql`delete from events where event_id = ${target.id}::uuid`;
          // The event after it is the one that no longer links; if it was the last, the checkpoint catches it.
          const next = all.find((r) => r.stream === target.stream && Number(r.revision) === Number(target.revision) + 1);
          expected = next ? [next.id] : [];
        }
        try {
          const report = await verify();
          expect(report.ok).toBe(false);
          expect(report.summary).toMatch(/^Broken/);
          if (expected.length > 0) {
            expect(expected).toContain(report.events.firstBroken?.eventId);
            expect(report.events.firstBroken.detail).toContain(report.events.firstBroken.eventId);
            if (how === 'data' || how === 'metadata' || how === 'type') expect(report.events.firstBroken.problem).toBe('altered');
          } else {
            expect(report.checkpoints.firstBroken).toMatchObject({ seq: 1 });
          }
        } finally {
          await restore(target, how, saved, all);
        }
        expect((await verify()).ok).toBe(true);
      }),
      { numRuns: 12 },
    );
  }, 180_000);

  it('detects a reordering of the global log against the checkpoint, and names the range', async () => {
    const all = await server.sql<Array<Row & { txid: string }>>`
      select global_position::text as gpos, transaction_id::text as txid, event_id::text as id, stream_id as stream, stream_revision::text as revision
        from events order by transaction_id, global_position`;
    const a = all[1]!;
    const b = all.find((r) => r.stream !== a.stream && Number(r.gpos) > Number(a.gpos))!;
    // Two events of different streams trade places in the log: (transaction_id, global_position) is the order.
    const swap = async (x: Row & { txid: string }, y: Row & { txid: string }) =>
      server.sql.begin(async (tx) => {
        await tx`update events set global_position = -1 where event_id = ${x.id}::uuid`;
        await tx`update events set global_position = ${x.gpos}::bigint, transaction_id = ${x.txid}::text::xid8 where event_id = ${y.id}::uuid`;
        await tx`update events set global_position = ${y.gpos}::bigint, transaction_id = ${y.txid}::text::xid8 where event_id = ${x.id}::uuid`;
      });
    await swap(a, b);
    try {
      const report = await verify();
      expect(report.ok).toBe(false);
      // Each stream still chains; only the order across streams changed.
      expect(report.events.firstBroken).toBeNull();
      expect(report.checkpoints.firstBroken).toMatchObject({ seq: 1, problem: 'chain_mismatch' });
      expect(report.checkpoints.firstBroken.detail).toMatch(/checkpoint 1/);
    } finally {
      await swap({ ...a, gpos: b.gpos, txid: b.txid }, { ...b, gpos: a.gpos, txid: a.txid });
    }
    expect((await verify()).ok).toBe(true);
  });

  it('detects a rewritten checkpoint by its signature', async () => {
    const [c] = await server.sql<{ chain: string }[]>`select chain from audit_checkpoints where seq = 1`;
    await server.sql`update audit_checkpoints set event_count = event_count - 1 where seq = 1`;
    try {
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(report.checkpoints.firstBroken).toMatchObject({ seq: 1 });
    } finally {
      await server.sql`update audit_checkpoints set event_count = event_count + 1, chain = ${c!.chain} where seq = 1`;
    }
    expect((await verify()).ok).toBe(true);
  });

  it('catches an insider who rewrites an event, recomputes its hashes and drops the checkpoints, with the copy kept outside', async () => {
    const kept = (await server.call('GET', '/api/audit/checkpoints', { token: auditor })).body.checkpoints;
    expect(kept).toHaveLength(1);
    const [target] = await server.sql<Array<{ id: string; stream: string; data: string; content_hash: Buffer; prev_hash: Buffer; hash: Buffer }>>`
      select event_id::text as id, stream_id as stream, data::text as data, content_hash, prev_hash, hash from events
       where type = 'IncidentTriaged' order by global_position limit 1`;
    const stream = await server.sql<Array<{ id: string; revision: string; type: string; data: unknown; metadata: Record<string, unknown> }>>`
      select event_id::text as id, stream_revision::text as revision, type, data, metadata from events where stream_id = ${target!.stream} order by stream_revision`;
    const saved = await server.sql<Array<{ id: string; content_hash: Buffer; prev_hash: Buffer; hash: Buffer }>>`
      select event_id::text as id, content_hash, prev_hash, hash from events where stream_id = ${target!.stream}`;
    const checkpoints = await server.sql`select * from audit_checkpoints`;
    // The insider knows the algorithm (it is public) and has the database, but not the signing key.
    let prev = GENESIS_HASH;
    for (const e of stream) {
      const data = e.id === target!.id ? { ...(e.data as object), priority: 5 } : e.data;
      const content = contentHash({ id: e.id, streamId: target!.stream, type: e.type, data, metadata: e.metadata });
      const hash = chainHash(prev, BigInt(e.revision), content);
      await server.sql`update events set data = ${JSON.stringify(data)}::text::jsonb, content_hash = ${Buffer.from(content, 'hex')}, prev_hash = ${Buffer.from(prev, 'hex')}, hash = ${Buffer.from(hash, 'hex')} where event_id = ${e.id}::uuid`;
      prev = hash;
    }
    await server.sql`delete from audit_checkpoints`;
    try {
      const key = auditKey(server.config);
      // The database alone now looks consistent…
      expect((await verifyAll(server.sql, key)).events.firstBroken, JSON.stringify((await verifyAll(server.sql, key)).events.firstBroken)).toBeNull();
      // …but not against the checkpoints kept outside it.
      const report = await verifyAll(server.sql, key, kept);
      expect(report.ok).toBe(false);
      expect(report.checkpoints.firstBroken).toMatchObject({ seq: 1 });
      expect(report.summary).toMatch(/^Broken: Checkpoint 1/);
    } finally {
      await server.sql`update events set data = ${target!.data}::text::jsonb where event_id = ${target!.id}::uuid`;
      for (const row of saved) {
        await server.sql`update events set content_hash = ${row.content_hash}, prev_hash = ${row.prev_hash}, hash = ${row.hash} where event_id = ${row.id}::uuid`;
      }
      for (const row of checkpoints) await server.sql`insert into audit_checkpoints ${server.sql(row as never)}`;
    }
    expect((await verifyAll(server.sql, auditKey(server.config), kept)).ok).toBe(true);
  });
});


async function restore(target: Row, how: string, saved: Record<string, unknown>[], all: Row[]) {
  if (how === 'data') await server.sql`update events set data = data - 'tampered' where event_id = ${target.id}::uuid`;
  if (how === 'type') await server.sql`update events set type = substr(type, length('IncidentNoteAdded') + 1) where event_id = ${target.id}::uuid`;
  if (how === 'metadata') {
    const [row] = await server.sql<{ actor: string }[]>`select actor from event_log where event_id = ${target.id}::uuid`;
    await server.sql`update events set metadata = jsonb_set(metadata, '{actor}', to_jsonb(${row!.actor}::text)) where event_id = ${target.id}::uuid`;
  }
  if (how === 'order') {
    await server.sql.begin(async (tx) => {
      const siblings = all.filter((r) => r.stream === target.stream);
      for (const s of siblings) await tx`update events set stream_revision = -1 - ${s.revision}::bigint where event_id = ${s.id}::uuid`;
      for (const s of siblings) await tx`update events set stream_revision = ${s.revision}::bigint where event_id = ${s.id}::uuid`;
    });
  }
  if (how === 'delete') {
    const row = saved[0]!;
    await server.sql`insert into events ${server.sql(row as never)}`;
  }
}
