import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One measured figure, printed as a table row and kept in the JSON results. */
export interface Row {
  figure: string;
  setup: string;
  value: number;
  unit: string;
  /** The same machine's ceiling for this figure, measured in the same run, when there is one. */
  ceiling?: number;
  ratio?: number;
  peakRssMiB?: number;
  notes?: string;
  /** Where the machine's CPU went per operation, in µs (see CpuMeter in support.ts); kept in the JSON only. */
  cpu?: { machine: number; postgres: number; clients: number; server?: number; busy: number; cores: number };
}

export interface FigureOptions {
  /** Shorter runs and smaller sizes, for a first look. */
  quick: boolean;
  /** The large event-log size (default 1,000,000), for machines where that does not fit the time. */
  events?: number;
}

export interface Figure {
  name: string;
  run: (options: FigureOptions) => Promise<Row[]>;
}

/** Runs `work` on `concurrency` workers until `durationMs` passes; returns operations per second. */
export async function rate(concurrency: number, durationMs: number, work: (worker: number, i: number) => Promise<void>): Promise<{ perSecond: number; count: number }> {
  const until = performance.now() + durationMs;
  let count = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < until; i++) {
        await work(worker, i);
        count++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: count / seconds, count };
}

/** Samples this process's resident set size while `fn` runs. */
export async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakRssMiB: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peakRssMiB: Math.round(peak / 1024 / 1024) };
  } finally {
    clearInterval(timer);
  }
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function printTable(rows: Row[]): void {
  const fmt = (n: number | undefined) => (n === undefined ? '' : Number.isNaN(n) ? 'n/a' : n >= 100 ? n.toFixed(0) : n.toFixed(2));
  const header = ['figure', 'setup', 'value', 'unit', 'ceiling', 'ratio', 'peak RSS MiB', 'notes'];
  const lines = rows.map((r) => [r.figure, r.setup, fmt(r.value), r.unit, fmt(r.ceiling), fmt(r.ratio), r.peakRssMiB?.toString() ?? '', r.notes ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const l of lines) console.log(line(l));
}

export function writeResults(rows: Row[], dir: string): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  const file = join(dir, `${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency, rows }, null, 2),
  );
  return file;
}
