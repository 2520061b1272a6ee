import { join } from 'node:path';
import { auditQueries } from './figures/auditQueries.ts';
import { commandThroughput } from './figures/commandThroughput.ts';
import { liveLatency } from './figures/liveLatency.ts';
import { mapRendering } from './figures/mapRendering.ts';
import { mqttIngest } from './figures/mqttIngest.ts';
import { projectionRebuild } from './figures/projectionRebuild.ts';
import { storeAppend } from './figures/storeAppend.ts';
import { sfReplay } from './figures/sfReplay.ts';
import { closeLogFixtures } from './logFixture.ts';
import { printTable, writeResults, type Figure, type Row } from './harness.ts';

// Speed and memory are measured here, never asserted in tests: the machine is shared and noisy, so each figure
// sits beside a ceiling measured in the same run and the ratio is what to compare between runs.
const figures: Figure[] = [storeAppend, commandThroughput, liveLatency, projectionRebuild, auditQueries, mapRendering, sfReplay, mqttIngest];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
/** `--only commands,live` or `--only=commands`. */
function option(name: string): string | undefined {
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  if (eq) return eq.slice(name.length + 3);
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}
const only = option('only')?.split(',');
const unknown = only?.filter((name) => !figures.some((f) => f.name === name));
if (unknown?.length) {
  console.error(`unknown figure(s) ${unknown.join(', ')}; choose from ${figures.map((f) => f.name).join(', ')}`);
  process.exit(2);
}
const eventsOption = option('events');
const events = eventsOption === undefined ? undefined : Number(eventsOption);
if (events !== undefined && !(Number.isInteger(events) && events >= 1000)) {
  console.error('--events must be a whole number of at least 1000');
  process.exit(2);
}

const rows: Row[] = [];
const startedAt = performance.now();
for (const figure of figures) {
  if (only && !only.includes(figure.name)) continue;
  const t = performance.now();
  process.stderr.write(`measuring ${figure.name}…\n`);
  try {
    rows.push(...(await figure.run({ quick, ...(events !== undefined && { events }) })));
  } catch (error) {
    process.stderr.write(`${figure.name} failed: ${(error as Error)?.stack ?? String(error)}\n`);
    rows.push({ figure: figure.name, setup: 'failed', value: Number.NaN, unit: '', notes: String((error as Error)?.message ?? error).slice(0, 200) });
  }
  process.stderr.write(`${figure.name} took ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
}
await closeLogFixtures();
printTable(rows);
console.log(`\ntotal ${((performance.now() - startedAt) / 1000).toFixed(0)} s; results written to ${writeResults(rows, join(import.meta.dirname, 'results'))}`);
process.exit(0);
