// Crash: the real server as its own process, under load, killed with SIGKILL at moments nobody chose, and
// restarted on the same store. Clients resend what got no answer, with the same Idempotency-Key.
import { afterAll, describe, expect, it } from 'vitest';
import { loginChild, startChildServer, type ChildServer } from '../support/childServer.ts';
import { DispatchLoad } from './load.ts';
import { crashStore, crashTargets, faultSeed, seededRandom } from './targets.ts';
import { expectNothingLostNothingTwice } from './verify.ts';

const KILLS = 3;
const WORKERS = 6;

const targets = crashTargets();
if (!process.env.DATABASE_URL) describe.skip('crash on PostgreSQL: DATABASE_URL not set', () => it('skipped', () => {}));

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

describe.each(targets)('the server killed with SIGKILL under load, on $title', ({ kind }) => {
  it(`loses no acknowledged command, applies none twice, and its read models equal a rebuild, over ${KILLS} kills`, async () => {
    const seed = faultSeed();
    const rnd = seededRandom(seed);
    const { server: serverOptions, store: storeConfig } = await crashStore(kind, (fn) => cleanups.push(fn));

    let server: ChildServer = await startChildServer(serverOptions);
    cleanups.push(() => server.kill());
    const token = await loginChild(server.baseUrl, 'admin');
    const load = new DispatchLoad(server.baseUrl, token, WORKERS);
    const killedAfter: number[] = [];

    for (let kill = 0; kill < KILLS; kill++) {
      const stop = new AbortController();
      const running = load.run(stop.signal, { untilNoAnswer: true });
      const before = load.acknowledged.length;
      // Once the restarted server answers again (how long that takes depends on the machine), somewhere between
      // at once and well into the load: commands are in flight whenever it lands.
      const deadline = Date.now() + 120_000;
      while (load.acknowledged.length === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const delay = Math.floor(rnd() * 1500);
      killedAfter.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      await server.kill();
      await running;
      stop.abort();
      expect(load.acknowledged.length, `no command was acknowledged before kill ${kill + 1} (seed ${seed})`).toBeGreaterThan(before);

      server = await startChildServer(serverOptions);
      load.baseUrl = server.baseUrl;
      // Whatever was in flight is sent again with its key: applied once whether or not it had landed.
      await load.drainPending();
    }
    // A little load on the last restart, so the recovered projector has new work on top of the old checkpoint.
    const stop = new AbortController();
    const last = load.run(stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop.abort();
    await last;
    await load.drainPending();
    await server.stop();

    expect(load.pending).toEqual([]);
    expect(load.noAnswer, 'the kills cut requests off').toBeGreaterThan(0);
    expect(new Set(load.acknowledged.map((a) => a.key)).size).toBe(load.sent.size);
    console.info(`[crash ${kind}] seed ${seed}, killed ${killedAfter.join(', ')} ms after the first answer; ${load.acknowledged.length} commands acknowledged`);
    await expectNothingLostNothingTwice(storeConfig, load.acknowledged);
  }, 600_000);
});
