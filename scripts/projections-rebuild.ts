// npm run projections:rebuild — empties the read models and replays the whole event log into them.
// Uses the same configuration as the server (DATABASE_URL, EVENTSTORE_URL, DATA_DIR). Safe while an API
// process with a live projector is running against the same PostgreSQL: the projector steps aside and
// continues from the rebuilt checkpoint afterwards. The embedded PGlite (no DATABASE_URL) can only be
// opened by one process, so stop the server before rebuilding its ./data.
import { Presets, SingleBar } from 'cli-progress';
import { connectStore, storeConfigFromEnv } from '../eventstore/connect.ts';
import { rebuildReadModels } from '../projections/rebuild.ts';

const config = storeConfigFromEnv();
const aborting = new AbortController();
process.once('SIGINT', () => aborting.abort(new Error('interrupted')));
process.once('SIGTERM', () => aborting.abort(new Error('terminated')));

const connected = await connectStore(config);
console.log(`Rebuilding read models from the ${connected.kind} event store…`);
const bar = new SingleBar(
  {
    format: ' {bar} {percentage}% | {value}/{total} events | {rate} events/s | {duration_formatted}',
    hideCursor: true,
    etaBuffer: 50,
  },
  Presets.shades_classic,
);
let started = false;
let exitCode = 0;
try {
  const result = await rebuildReadModels({
    store: connected.store,
    sql: connected.sql,
    signal: aborting.signal,
    onWaiting: () => console.log('The live projector holds the read models; asking it to step aside…'),
    onProgress: ({ applied, expected, eventsPerSecond }) => {
      if (!started) bar.start(expected, 0, { rate: 0 });
      started = true;
      bar.setTotal(expected);
      bar.update(applied, { rate: Math.round(eventsPerSecond) });
    },
  });
  if (started) bar.stop();
  console.log(
    `Rebuilt ${result.events} events (${result.incidents} incidents, ${result.units} units) in ${result.seconds.toFixed(2)} s ` +
      `— ${Math.round(result.eventsPerSecond)} events/s over ${result.batches} batches.`,
  );
} catch (error) {
  if (started) bar.stop();
  console.error(`Rebuild failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error('The read models hold a consistent prefix of the log; a live projector, or another rebuild, completes them.');
  exitCode = 1;
} finally {
  await connected.close();
}
process.exitCode = exitCode;
