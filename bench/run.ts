import { join } from 'node:path';
import { storeAppend } from './figures/storeAppend.ts';
import { printTable, writeResults, type Figure, type Row } from './harness.ts';

// Speed and memory are measured here, never asserted in tests: the machine is shared and noisy, so each figure
// sits beside a ceiling measured in the same run and the ratio is what to compare between runs.
const figures: Figure[] = [storeAppend];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');

const rows: Row[] = [];
for (const figure of figures) {
  if (only && !only.includes(figure.name)) continue;
  process.stderr.write(`measuring ${figure.name}…\n`);
  rows.push(...(await figure.run({ quick })));
}
printTable(rows);
console.log(`\nresults written to ${writeResults(rows, join(import.meta.dirname, 'results'))}`);
