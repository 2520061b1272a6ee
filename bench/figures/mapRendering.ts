import { login, newContext, startServerAndBrowser } from '../../test/support/browser.ts';
import { withPeakRss, type Figure, type Row } from '../harness.ts';

/**
 * The dispatcher's map in headless Chromium (the built app, the real server and live feed): 10,000 incidents
 * and 2,000 units put into the page's store at once, as a flood from the live feed would, then 100 updates a
 * second (moves and status changes). Time to first render is from the flood to the first frame painted after
 * the canvas layer drew them all; frames per second are requestAnimationFrame callbacks while updates stream.
 * The markers are drawn in a worker where the browser allows; draws() counts the frames it hands back.
 * Chromium here has no GPU and shares two cores: 60 fps is the display's ceiling.
 */
export const mapRendering: Figure = {
  name: 'map',
  async run({ quick }) {
    const seconds = quick ? 3 : 8;
    const measured = await withPeakRss(async () => {
      const [server, browser] = await startServerAndBrowser();
      try {
        const { page, context } = await newContext(browser, { lang: 'en' });
        // tsx compiles with keepNames: functions sent to the page call its __name helper, which the page lacks.
        await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
        // BENCH_MAP_MAIN_THREAD=1: the fallback a browser without OffscreenCanvas gets (markers drawn on the page's thread).
        if (process.env.BENCH_MAP_MAIN_THREAD) await context.addInitScript({ content: 'delete globalThis.OffscreenCanvas;' });
        await login(page, server.url, 'admin');
        await page.getByTestId('dispatcher-view').waitFor();
        await page.waitForFunction(() => (window.__cbdMaps?.dispatch?.keys().length ?? 0) > 20, undefined, { timeout: 60_000 });
        // BENCH_MAP_PROFILE=1 prints where the page's main thread spends its time (V8 CPU profile, self time).
        const cdp = process.env.BENCH_MAP_PROFILE ? await context.newCDPSession(page) : undefined;
        if (cdp) {
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.start');
        }
        const figures = await page.evaluate(async (seconds) => {
          const { store } = (window as any).__cbd;
          const hook = window.__cbdMaps!.dispatch!;
          let seed = 7;
          const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
          const statuses = ['reported', 'triaged', 'dispatched', 'on_scene'];
          const agencies = ['police', 'traffic', 'fire', 'ems', 'safety', 'urban'];
          const frame = () => new Promise<number>((resolve) => requestAnimationFrame((t) => resolve(t)));
          await frame();
          const drawsBefore = hook.draws();
          const started = performance.now();
          const now = Date.now();
          for (let i = 0; i < 10_000; i++) {
            store.upsertIncident({
              id: `bench-i-${i}`, status: statuses[i % 4], priority: 1 + (i % 5), type: 'public_order',
              location: { lat: 27.03 + rnd() * 0.15, lng: 114.9 + rnd() * 0.17 }, agencies: [agencies[i % 6]], units: [],
              revision: 0, reportedAt: new Date(now - rnd() * 3600_000).toISOString(),
            });
          }
          for (let i = 0; i < 2_000; i++) {
            store.upsertUnit({
              id: `bench-u-${i}`, callSign: `B-${i}`, agency: agencies[i % 6], type: 'patrol_car', readiness: 'available',
              status: i % 3 ? 'idle' : 'en_route', incidentId: null, position: { lat: 27.03 + rnd() * 0.15, lng: 114.9 + rnd() * 0.17 },
            });
          }
          // The first frame after the layer has drawn with every marker in it (drawn in a worker: a frame shown
          // now may have been started before the flood, so wait for the one that shows every change).
          while (hook.draws() === drawsBefore || hook.keys().length < 12_000 || !hook.caughtUp()) await frame();
          await frame();
          const firstRenderMs = performance.now() - started;
          const fullDrawMs = hook.lastDrawMs();

          // 100 updates a second: every 100 ms, 5 incidents change status and 5 units move.
          const frameTimes: number[] = [];
          const drawTimes: number[] = [];
          let lastDraws = hook.draws();
          const wholeBefore = hook.wholeDraws();
          let running = true;
          const counting = (async () => {
            let previous = await frame();
            while (running) {
              const t = await frame();
              frameTimes.push(t - previous);
              previous = t;
              if (hook.draws() !== lastDraws) {
                lastDraws = hook.draws();
                drawTimes.push(hook.lastDrawMs());
              }
            }
          })();
          // Main-thread work over 50 ms (React renders, the canvas draw): what takes frames away.
          const longTasks: number[] = [];
          const observer = new PerformanceObserver((list) => {
            for (const entry of list.getEntries()) longTasks.push(entry.duration);
          });
          observer.observe({ type: 'longtask', buffered: false });
          let n = 0;
          const t0 = performance.now();
          await new Promise<void>((resolve) => {
            const timer = setInterval(() => {
              for (let k = 0; k < 5; k++, n++) {
                const i = Math.floor(rnd() * 10_000);
                store.upsertIncident({ ...store.incidents.get(`bench-i-${i}`), status: statuses[n % 4], revision: n + 1 });
                const u = store.units.get(`bench-u-${i % 2000}`);
                store.upsertUnit({ ...u, position: { lat: u.position.lat + 0.0003, lng: u.position.lng } });
              }
              if (performance.now() - t0 > seconds * 1000) {
                clearInterval(timer);
                resolve();
              }
            }, 100);
          });
          const elapsed = performance.now() - t0;
          observer.disconnect();
          running = false;
          await counting;
          frameTimes.sort((a, b) => a - b);
          drawTimes.sort((a, b) => a - b);
          return {
            markers: hook.keys().length,
            firstRenderMs,
            fullDrawMs,
            fps: (frameTimes.length / elapsed) * 1000,
            updatesPerSecond: (n * 2) / (elapsed / 1000),
            p99FrameMs: frameTimes[Math.floor(frameTimes.length * 0.99)] ?? 0,
            p50DrawMs: drawTimes[Math.floor(drawTimes.length / 2)] ?? 0,
            redraws: drawTimes.length,
            wholeRedraws: hook.wholeDraws() - wholeBefore,
            longTaskShare: longTasks.reduce((a, b) => a + b, 0) / elapsed,
            longestTaskMs: Math.max(0, ...longTasks),
          };
        }, seconds);
        if (cdp) {
          const { profile } = await cdp.send('Profiler.stop');
          const self = new Map<string, number>();
          const byId = new Map(profile.nodes.map((node) => [node.id, node]));
          const deltas = profile.timeDeltas ?? [];
          (profile.samples ?? []).forEach((id, i) => {
            const f = byId.get(id)!.callFrame;
            const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
            self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0) / 1000);
          });
          const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 15);
          process.stderr.write(`map profile, self time (ms):\n${top.map(([k, ms]) => `  ${ms.toFixed(0).padStart(7)}  ${k}`).join('\n')}\n`);
        }
        await context.close();
        return figures;
      } finally {
        await browser.close();
        await server.close();
      }
    });
    const f = measured.result;
    return [
      {
        figure: 'map: time to first render',
        setup: `Chromium headless, ${f.markers} markers`,
        value: f.firstRenderMs,
        unit: 'ms',
        peakRssMiB: measured.peakRssMiB,
        notes: `full canvas draw ${f.fullDrawMs.toFixed(1)} ms; RSS of the bench process (server in-process, Chromium excluded)`,
      },
      {
        figure: 'map: frames per second under updates',
        setup: `10k incidents + 2k units, ${f.updatesPerSecond.toFixed(0)} updates/s`,
        value: f.fps,
        unit: 'fps',
        ceiling: 60,
        ratio: f.fps / 60,
        peakRssMiB: measured.peakRssMiB,
        notes: `p99 frame ${f.p99FrameMs.toFixed(1)} ms; ${f.redraws} canvas redraws (${f.wholeRedraws} of the whole canvas, the rest of changed squares only), median ${f.p50DrawMs.toFixed(1)} ms; main thread in long tasks ${(100 * f.longTaskShare).toFixed(0)}% (longest ${f.longestTaskMs.toFixed(0)} ms); target ≥ 50 fps`,
      },
    ] satisfies Row[];
  },
};
