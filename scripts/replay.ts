// npm run replay -- <file.csv> [--url http://127.0.0.1:3000] [--limit N] [--speed <factor>|max]
// Replays SF Fire Department calls through a running server, then prints its dashboard beside the file's figures.
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { checkKnown, fail, parseArgs, positiveNumber } from './lib/args.ts';
import type { DurationKpi } from './lib/stats.ts';
import { replayCalls } from './replay/run.ts';
import { readSfCalls } from './replay/sfCalls.ts';

const USAGE = `Usage: npm run replay -- <calls.csv> [--url http://127.0.0.1:3000] [--limit N] [--speed <factor>|max] [--username admin] [--password …]
  --speed 60 replays an hour of calls in a minute; max sends as fast as the server takes them (default max).
  The password defaults to $REPLAY_PASSWORD, else the demo password.`;

const { options, positional } = parseArgs(process.argv.slice(2));
checkKnown(options, ['url', 'limit', 'speed', 'username', 'password', 'help'], USAGE);
if (options.has('help')) {
  console.log(USAGE);
  process.exit(0);
}
const file = positional[0] ?? fail(`Name the calls file.\n${USAGE}`);
if (!existsSync(file)) fail(`There is no file ${file}.`);
const url = options.get('url') ?? 'http://127.0.0.1:3000';
const limit = positiveNumber(options, 'limit', undefined);
const speedRaw = options.get('speed') ?? 'max';
const speed = speedRaw === 'max' ? 'max' : (positiveNumber(options, 'speed', 1) as number);

const calls = readSfCalls(file, limit === undefined ? {} : { limit: Math.floor(limit) });
console.log(`Replaying ${calls.length} calls from ${file} into ${url} at ${speed === 'max' ? 'full speed' : `${speed}× real time`}…`);
const bar = new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {value}/{total} commands | {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic);
let started = false;
try {
  const result = await replayCalls({
    url,
    calls,
    speed,
    username: options.get('username') ?? 'admin',
    password: options.get('password') ?? process.env.REPLAY_PASSWORD ?? 'demo',
    onProgress: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
  });
  bar.stop();
  console.log(`\n${result.commands} commands (${result.units} units, ${result.calls} calls) in ${result.seconds.toFixed(1)} s — ${(result.commands / result.seconds).toFixed(0)} commands/s; ${result.errors.length} errors; ${result.skipped} unit facts left out (unit already on a later call).`);
  for (const e of result.errors.slice(0, 10)) console.log(`  ${e.status} ${e.step}: ${e.detail}`);
  const fmt = (k: DurationKpi, f: 'p50' | 'p90') => (k[f] === null ? '—' : `${k[f]!.toFixed(1)} s`);
  const rows: Array<[string, string, string]> = [];
  for (const type of Object.keys({ ...result.csv.countsByType, ...result.system.countsByType }).sort()) {
    rows.push([`calls: ${type}`, String(result.system.countsByType[type] ?? 0), String(result.csv.countsByType[type] ?? 0)]);
  }
  for (const [name, label] of [['receivedToDispatch', 'received → dispatch'], ['receivedToOnScene', 'received → on scene']] as const) {
    rows.push([`${label} P50`, fmt(result.system[name], 'p50'), fmt(result.csv[name], 'p50')]);
    rows.push([`${label} P90`, fmt(result.system[name], 'p90'), fmt(result.csv[name], 'p90')]);
    rows.push([`${label} n`, String(result.system[name].n), String(result.csv[name].n)]);
  }
  const w = [Math.max(...rows.map((r) => r[0].length), 6), Math.max(...rows.map((r) => r[1].length), 20), 10];
  console.log(`\n${'figure'.padEnd(w[0]!)}  ${'system (dashboard)'.padStart(w[1]!)}  ${'file'.padStart(w[2]!)}`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0]!)}  ${b.padStart(w[1]!)}  ${c.padStart(w[2]!)}${b === c ? '' : '   ← differs'}`);
  if (result.mismatches.length === 0) console.log('\nThe dashboard matches the file.');
  else {
    console.log(`\nThe dashboard differs from the file:\n  ${result.mismatches.join('\n  ')}`);
    process.exitCode = 1;
  }
} catch (error) {
  bar.stop();
  fail(`Replay failed: ${(error as Error).message}`);
}
