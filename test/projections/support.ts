import postgres from 'postgres';
import { connectEmbedded } from '../../eventstore/embedded.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { DEFAULT_PROJECTION } from '../../projections/runner.ts';
import type { TestDatabase } from '../support/db.ts';

/** A store on `sql` that notices new events quickly: PGlite cannot deliver NOTIFY, so it polls. */
export function storeOn(db: TestDatabase, sql: postgres.Sql = db.sql): PostgresEventStore {
  return new PostgresEventStore(sql, { name: db.kind, listen: db.kind === 'postgres', pollIntervalMs: 25 });
}

/** Another pool on the same database, as a second API process would have. */
export function secondPool(db: TestDatabase): postgres.Sql {
  return db.kind === 'pglite' ? connectEmbedded(db.url) : postgres(db.url, { onnotice: () => {} });
}

export interface ReadModelDump {
  event_log: unknown[];
  incident_board: unknown[];
  unit_board: unknown[];
  checkpoint: unknown[];
}

/**
 * Every projected table in key order, as JSON the server renders (full timestamp precision). Only the
 * checkpoint's updated_at is left out: it is the wall clock of the commit, not derived from the log. Only the
 * checkpoints of the projections a rebuild rebuilds are kept: others (time travel) run on their own clock.
 */
export async function dumpReadModels(sql: postgres.Sql): Promise<ReadModelDump> {
  const dump = async (text: string, params: string[] = []) =>
    (await sql.unsafe<Array<{ r: string }>>(text, params, { prepare: true })).map((row) => JSON.parse(row.r) as unknown);
  return {
    event_log: await dump('select row_to_json(t)::text as r from event_log t order by seq'),
    incident_board: await dump('select row_to_json(t)::text as r from incident_board t order by id'),
    unit_board: await dump('select row_to_json(t)::text as r from unit_board t order by id'),
    checkpoint: await dump('select json_build_object(\'projection\', projection, \'position\', position, \'seq\', seq)::text as r from projection_checkpoints where projection = $1 order by projection', [DEFAULT_PROJECTION]),
  };
}

/** The whole log in order, as a projector sees it. */
export async function readWholeLog(store: PostgresEventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ ...(all.length > 0 && { from: all.at(-1)!.position }), maxCount: 1000 });
    if (page.length === 0) return all;
    all.push(...page);
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** event_log's ids and seqs in seq order, to hold against the store's log. */
export async function eventLogOrder(sql: postgres.Sql): Promise<{ ids: string[]; seqs: number[] }> {
  const rows = await sql<{ seq: string; event_id: string }[]>`select seq::text as seq, event_id::text as event_id from event_log order by event_log.seq`;
  return { ids: rows.map((r) => r.event_id), seqs: rows.map((r) => Number(r.seq)) };
}
