// npm run simulate -- [--url http://127.0.0.1:3000] [--rate 60] [--duration 24h|90m|3600] [--commands N] [--intensity 1] [--seed 7]
// A day in Ji'an through the public API: incidents by type and hour, nearest units assigned, units driving.
import cliProgress from 'cli-progress';
import { checkKnown, fail, parseArgs, positiveNumber } from './lib/args.ts';
import { simulate } from '../api/simulation/run.ts';

const USAGE = `Usage: npm run simulate -- [--url http://127.0.0.1:3000] [--rate 60] [--duration 24h] [--commands N] [--intensity 1] [--start-hour 8] [--seed 7] [--password demo]
  --rate: simulated seconds per real second (60: an hour a minute); --duration: simulated time (s, or with m/h); --commands: stop after N commands.`;

const { options } = parseArgs(process.argv.slice(2));
checkKnown(options, ['url', 'rate', 'duration', 'commands', 'intensity', 'seed', 'start-hour', 'password', 'help'], USAGE);
if (options.has('help')) {
  console.log(USAGE);
  process.exit(0);
}

function duration(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(raw);
  if (!m) fail(`--duration must be a simulated time such as 3600, 90m or 24h; got ${JSON.stringify(raw)}.`);
  return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2]!]!;
}

const url = options.get('url') ?? 'http://127.0.0.1:3000';
const rate = positiveNumber(options, 'rate', 60)!;
const commands = positiveNumber(options, 'commands', undefined);
const durationSeconds = duration(options.get('duration')) ?? (commands === undefined ? 24 * 3600 : undefined);
const bar = new cliProgress.SingleBar(
  { format: ' {bar} {percentage}% | {commands} commands | sim {clock} | {opened} opened, {closed} closed | {errors} errors', hideCursor: true },
  cliProgress.Presets.shades_classic,
);
const total = commands ?? durationSeconds!;
bar.start(total, 0, { commands: 0, clock: '0h00', opened: 0, closed: 0, errors: 0 });
const stop = new AbortController();
process.on('SIGINT', () => stop.abort());

try {
  const summary = await simulate({
    url,
    password: options.get('password') ?? process.env.SIMULATE_PASSWORD ?? 'demo',
    rate,
    ...(durationSeconds !== undefined && { durationSeconds }),
    ...(commands !== undefined && { maxCommands: Math.floor(commands) }),
    intensity: positiveNumber(options, 'intensity', 1)!,
    seed: positiveNumber(options, 'seed', 7)!,
    startHour: Number(options.get('start-hour') ?? 8) % 24,
    signal: stop.signal,
    onProgress: (p) => {
      const h = Math.floor(p.simulatedSeconds / 3600);
      const m = Math.floor((p.simulatedSeconds % 3600) / 60);
      bar.update(commands !== undefined ? p.commands : Math.min(p.simulatedSeconds, total), { commands: p.commands, clock: `${h}h${String(m).padStart(2, '0')}`, opened: p.incidentsOpened, closed: p.incidentsClosed, errors: p.errors });
    },
  });
  bar.stop();
  const s = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(1)} s`);
  console.log(`
Simulated ${(summary.simulatedSeconds / 3600).toFixed(2)} h in ${summary.realSeconds.toFixed(1)} s.
  commands sent      ${summary.commands}  (${Object.entries(summary.commandsByKind).map(([k, n]) => `${k} ${n}`).join(', ')})
  errors             ${summary.errors}  (${summary.expectedConflicts} expected: a unit taken a moment earlier; ${summary.unexpectedErrors.length} unexpected)
  incidents          ${summary.incidentsOpened} opened, ${summary.incidentsClosed} closed
  received→dispatch  P50 ${s(summary.kpis?.receivedToDispatch.p50)}, P90 ${s(summary.kpis?.receivedToDispatch.p90)} (n ${summary.kpis?.receivedToDispatch.n ?? 0})
  received→on scene  P50 ${s(summary.kpis?.receivedToOnScene.p50)}, P90 ${s(summary.kpis?.receivedToOnScene.p90)} (n ${summary.kpis?.receivedToOnScene.n ?? 0})
  units              ${summary.units ? `${summary.units.busy}/${summary.units.total} busy, utilisation ${summary.units.utilisation}` : '—'}`);
  for (const e of summary.unexpectedErrors.slice(0, 10)) console.log(`  ${e.status} ${e.command}: ${e.detail}`);
  if (summary.unexpectedErrors.length > 0) process.exitCode = 1;
} catch (error) {
  bar.stop();
  fail(`Simulation failed: ${(error as Error).message}`);
}
