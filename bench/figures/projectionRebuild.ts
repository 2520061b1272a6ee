import { rebuildReadModels } from '../../projections/rebuild.ts';
import { withPeakRss, type Figure, type Row } from '../harness.ts';
import { logOfAtLeast } from '../logFixture.ts';
import { POSTGRES_URL } from '../support.ts';

/**
 * `npm run projections:rebuild` as a figure: empty the read models and replay the whole log through the live
 * projector's code, at 100k and at the large size (1M by default). The log is whole incidents written through
 * the store's append (see writeSyntheticLog). The embedded store is measured at 100k only: it is the
 * single-machine default, and a million events there take longer than the bench's budget.
 */
export const projectionRebuild: Figure = {
  name: 'rebuild',
  async run({ quick, events }) {
    const large = events ?? (quick ? 200_000 : 1_000_000);
    const small = Math.min(100_000, large);
    const rows: Row[] = [];
    const plan: Array<{ kind: 'postgres' | 'pglite'; size: number }> = [];
    if (POSTGRES_URL) plan.push({ kind: 'postgres', size: small }, { kind: 'postgres', size: large });
    plan.push({ kind: 'pglite', size: quick ? 20_000 : small });
    for (const { kind, size } of plan) {
      const fixture = await logOfAtLeast(kind, size);
      const measured = await withPeakRss(() => rebuildReadModels({ store: fixture.store, sql: fixture.db.sql }));
      const r = measured.result;
      rows.push({
        figure: 'projection rebuild',
        setup: `${kind === 'pglite' ? 'embedded' : 'postgres'}, ${r.events.toLocaleString('en')} events`,
        value: r.eventsPerSecond,
        unit: 'events/s',
        peakRssMiB: measured.peakRssMiB,
        notes: `${r.seconds.toFixed(1)} s, ${r.batches} batches, ${r.incidents} incidents, ${r.units} units; target ≥ 30k events/s; RSS of the rebuilding process`,
      });
    }
    return rows;
  },
};
