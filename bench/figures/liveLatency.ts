import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { quantile, type Figure, type Row } from '../harness.ts';
import { placeInCentre } from '../../test/support/places.ts';
import { callChild, freshDatabase, loginChild, POSTGRES_URL, startChildServer } from '../support.ts';

// Overridable for experiments (BENCH_LIVE_CLIENTS=1 BENCH_LIVE_RATES=20,100); the figure is 50 clients at 100 and 500.
const CLIENTS = Number(process.env.BENCH_LIVE_CLIENTS ?? 50);
const RATES = (process.env.BENCH_LIVE_RATES ?? '100,500').split(',').map(Number);
/** Then the lower rate again with one more client that stops reading: the others must keep their latency. */
const STALLED_AT = RATES[0]!;
const TAG_START = Buffer.from('lat-');

/**
 * The tags ("lat-<n>-x") in one message, found in its bytes: 50 clients read 25,000 messages a second at 500
 * commands/s, and decoding and regex-scanning each one made this process's own event loop part of the figure.
 */
function tagsIn(data: Buffer): number[] {
  const tags: number[] = [];
  for (let at = data.indexOf(TAG_START); at >= 0; at = data.indexOf(TAG_START, at + 1)) {
    let n = 0;
    let i = at + TAG_START.length;
    for (; i < data.length && data[i]! >= 48 && data[i]! <= 57; i++) n = n * 10 + (data[i]! - 48);
    if (i > at + TAG_START.length && data[i] === 45 /* - */ && data[i + 1] === 120 /* x */) tags.push(n);
  }
  return tags;
}
/** Open loop, but bounded: past this many unanswered commands the offered load is shed (and reported). */
const MAX_IN_FLIGHT = 256;

/**
 * Command accepted (its 2xx arrived at the client) → the change delivered on the WebSocket, at a fixed offered
 * rate (open loop: commands go out on schedule whether or not earlier ones have been answered), with 50 clients
 * connected to GET /api/live. A quarter of the commands report incidents, the rest add notes to them; each
 * carries a tag, and a client's first sighting of a tag is that command's delivery. Every client counts, so
 * the percentiles are over commands × clients.
 */
export const liveLatency: Figure = {
  name: 'live',
  async run({ quick }) {
    const durationMs = quick ? 4000 : 10_000;
    const kind = POSTGRES_URL ? 'postgres' : 'embedded';
    let cleanup = async () => {};
    let serverOptions: Parameters<typeof startChildServer>[0];
    if (kind === 'postgres') {
      const db = await freshDatabase('postgres');
      cleanup = () => db.close();
      serverOptions = { databaseUrl: db.url };
    } else {
      const dataDir = mkdtempSync(join(tmpdir(), 'cbd-bench-'));
      cleanup = async () => rmSync(dataDir, { recursive: true, force: true });
      serverOptions = { dataDir };
    }
    const rows: Row[] = [];
    // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": flags for the server under test (profiling).
    const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean);
    const server = await startChildServer({ ...serverOptions, ...(nodeArgs && { nodeArgs }) });
    const sockets: WebSocket[] = [];
    try {
      const token = await loginChild(server.baseUrl, 'admin');
      // delivered[client].get(tag) = when that client first saw it.
      const delivered = Array.from({ length: CLIENTS }, () => new Map<number, number>());
      const url = `${server.baseUrl.replace(/^http/, 'ws')}/api/live?token=${encodeURIComponent(token)}`;
      await Promise.all(
        delivered.map(
          (seen) =>
            new Promise<void>((resolve, reject) => {
              const ws = new WebSocket(url);
              sockets.push(ws);
              ws.on('message', (data: Buffer) => {
                const now = performance.now();
                for (const tag of tagsIn(data)) if (!seen.has(tag)) seen.set(tag, now);
              });
              ws.once('open', () => resolve());
              ws.once('error', reject);
            }),
        ),
      );

      let nextTag = 0;
      const incidents: string[] = [];
      const plan = [...RATES.map((offered) => ({ offered, stalled: false })), { offered: STALLED_AT, stalled: true }];
      for (const { offered, stalled } of plan) {
        if (stalled) {
          // A client whose network stops: the server must cut it (4008) rather than let it slow the others.
          const ws = new WebSocket(url);
          sockets.push(ws);
          await new Promise<void>((resolve, reject) => {
            ws.once('open', () => resolve());
            ws.once('error', reject);
          });
          (ws as unknown as { _socket: { pause(): void } })._socket.pause();
        }
        const accepted = new Map<number, number>();
        const sentAt = new Map<number, number>();
        const refused = new Map<number, number>();
        const inflight = new Set<Promise<void>>();
        let shed = 0;
        const send = (tag: number) => {
          if (inflight.size >= MAX_IN_FLIGHT) {
            shed += 1;
            return;
          }
          sentAt.set(tag, performance.now());
          const report = incidents.length === 0 || tag % 4 === 0;
          const target = incidents[Math.floor(Math.random() * Math.min(incidents.length, 200))];
          const p = callChild(
            server.baseUrl,
            'POST',
            report ? '/api/incidents' : `/api/incidents/${target}/notes`,
            {
              token,
              headers: { 'idempotency-key': randomUUID() },
              body: report
                ? { type: 'public_order', priority: 3, location: placeInCentre(tag), description: `lat-${tag}-x` }
                : { text: `lat-${tag}-x` },
            },
          ).then((response) => {
            if (response.status >= 200 && response.status < 300) {
              accepted.set(tag, performance.now());
              if (report) incidents.unshift(response.body.id as string);
            } else refused.set(response.status, (refused.get(response.status) ?? 0) + 1);
          });
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
        };
        // Warm-up at the same rate, not counted.
        const run = async (ms: number) => {
          const tickMs = 10;
          const started = performance.now();
          let sent = 0;
          const first = nextTag;
          while (performance.now() - started < ms) {
            const due = Math.floor(((performance.now() - started) / 1000) * offered);
            while (sent < due) {
              const tag = nextTag++;
              send(tag);
              sent++;
            }
            await new Promise((resolve) => setTimeout(resolve, tickMs));
          }
          return { first, last: nextTag - 1, seconds: (performance.now() - started) / 1000 };
        };
        await run(quick ? 1000 : 2000);
        const window = await run(durationMs);
        await Promise.race([Promise.all([...inflight]), new Promise((resolve) => setTimeout(resolve, 15_000))]);
        await new Promise((resolve) => setTimeout(resolve, 2000));

        const latencies: number[] = [];
        // Also from when the command was sent: the change often arrives before the command's own answer (which waits
        // for its Idempotency-Key to be recorded), and "accepted → delivered" counts that as 0.
        const endToEnd: number[] = [];
        let missing = 0;
        let beforeAck = 0;
        let acceptedInWindow = 0;
        for (let tag = window.first; tag <= window.last; tag++) {
          const at = accepted.get(tag);
          if (at === undefined) continue;
          acceptedInWindow++;
          for (const seen of delivered) {
            const when = seen.get(tag);
            if (when === undefined) {
              missing++;
              continue;
            }
            if (when < at) beforeAck++;
            latencies.push(Math.max(0, when - at));
            endToEnd.push(when - sentAt.get(tag)!);
          }
        }
        latencies.sort((a, b) => a - b);
        endToEnd.sort((a, b) => a - b);
        const achieved = acceptedInWindow / window.seconds;
        const notes = `achieved ${achieved.toFixed(0)} commands/s${shed ? ` (${shed} shed at ${MAX_IN_FLIGHT} in flight)` : ''}; ${latencies.length} deliveries, ${missing} missing, ${[...refused].map(([status, n]) => `${n}×${status}`).join(' ') || 'none'} refused; ${((100 * beforeAck) / Math.max(1, latencies.length)).toFixed(0)}% arrived before the 2xx (counted as 0); sent → delivered p50 ${quantile(endToEnd, 0.5).toFixed(1)} ms, p99 ${quantile(endToEnd, 0.99).toFixed(1)} ms`;
        const setup = `${kind}, ${offered} commands/s offered, ${CLIENTS} clients${stalled ? ' + 1 stalled' : ''}`;
        rows.push({ figure: 'live latency p50 (accepted → delivered)', setup, value: quantile(latencies, 0.5), unit: 'ms', peakRssMiB: server.peakRssMiB(), notes });
        rows.push({ figure: 'live latency p99 (accepted → delivered)', setup, value: quantile(latencies, 0.99), unit: 'ms', peakRssMiB: server.peakRssMiB(), notes: 'target ≤ 25 ms at 500 commands/s' });
      }
    } finally {
      for (const ws of sockets) ws.terminate();
      await server.stop();
      await cleanup();
    }
    return rows;
  },
};
