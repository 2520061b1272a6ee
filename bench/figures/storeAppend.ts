import postgres from 'postgres';
import { newId } from '../../eventstore/eventIds.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import { openTestDatabase } from '../../test/support/db.ts';
import { rate, withPeakRss, type Figure, type Row } from '../harness.ts';

const CONCURRENCY = 8;

/**
 * The store's append rate beside the same database's raw single-row insert rate with as many connections:
 * the raw insert is the physical ceiling an append (one event, optimistic concurrency, unique id) can approach.
 */
export const storeAppend: Figure = {
  name: 'store-append',
  async run({ quick }) {
    const durationMs = quick ? 2000 : 8000;
    const kinds: ('pglite' | 'postgres')[] = ['pglite'];
    if (process.env.DATABASE_URL) kinds.push('postgres');
    const rows: Row[] = [];
    for (const kind of kinds) {
      const db = await openTestDatabase({ kind, migrate: true });
      try {
        const concurrency = kind === 'pglite' ? 1 : CONCURRENCY;
        await db.sql`create table bench_raw (id bigserial primary key, k uuid not null unique, payload jsonb not null)`;
        const payload = { type: 'fire', priority: 2, location: { lat: 27.11, lng: 114.99 }, address: '吉州区 阳明路' };
        const raw = await rate(concurrency, durationMs, async () => {
          await db.sql`insert into bench_raw (k, payload) values (${newId()}, ${db.sql.json(payload)})`;
        });
        const store = new PostgresEventStore(db.sql as postgres.Sql, { listen: false });
        const streams = Array.from({ length: concurrency }, () => ({ id: `incident-${newId()}`, revision: -1n }));
        const measured = await withPeakRss(() =>
          rate(concurrency, durationMs, async (worker) => {
            const s = streams[worker]!;
            const result = await store.append(
              s.id,
              [{ id: newId(), type: 'IncidentNoteAdded', data: { text: 'bench' }, metadata: { actor: 'bench', commandId: newId(), schemaVersion: 1 } }],
              s.revision < 0n ? 'no_stream' : s.revision,
            );
            s.revision = result.nextRevision;
          }),
        );
        await store.close();
        rows.push({
          figure: 'event append (1 event, exact revision)',
          setup: `${kind}, ${concurrency} connection(s)`,
          value: measured.result.perSecond,
          unit: 'appends/s',
          ceiling: raw.perSecond,
          ratio: measured.result.perSecond / raw.perSecond,
          peakRssMiB: measured.peakRssMiB,
          notes: 'ceiling: raw single-row INSERT rate, same connections',
        });
      } finally {
        await db.close();
      }
    }
    return rows;
  },
};
