// The marker canvas as a dispatcher sees it, read back from screenshots of the page: drawn by a worker (or on the
// page's thread where the browser cannot), showing each marker where the map puts it after updates, pans and zooms,
// clickable, and, after many partial redraws, showing exactly what a whole redraw shows.
import { inflateSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiAs, login, newContext, useE2E, type E2EServer } from '../support/browser.ts';

let server: E2EServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000, interval: 100 });

// web/src/util/colors.ts: priority 2 and priority 1.
const P2 = '#f2711c';
const P1 = '#e0262f';

useE2E((s, b) => {
  server = s;
  browser = b;
}, contexts);

async function open(initScript?: string): Promise<Page> {
  const c = await newContext(browser, { lang: 'en' });
  contexts.push(c.context);
  if (initScript) await c.context.addInitScript({ content: initScript });
  c.page.on('pageerror', (e) => console.error('page error:', e.message));
  return c.page;
}

/** The colour on screen at a page point, from a 1×1 screenshot: what the dispatcher sees, whoever drew it. */
async function colourAt(page: Page, point: { x: number; y: number }): Promise<string> {
  const png = await page.screenshot({ clip: { x: Math.floor(point.x), y: Math.floor(point.y), width: 1, height: 1 } });
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('ascii', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  // One row of one pixel: every PNG filter predicts 0 there, so the bytes after the filter byte are the colour.
  const raw = inflateSync(Buffer.concat(idat));
  return `#${[raw[1], raw[2], raw[3]].map((v) => v!.toString(16).padStart(2, '0')).join('')}`;
}

const pointOf = (page: Page, key: string) => page.evaluate((k) => window.__cbdMaps!.dispatch!.pagePointOf(k), key);

/**
 * A P2 incident reported through the API at a spot of the dispatcher's map with no marker near it: it shows in
 * P2 orange; triaged as P1, the live feed's update repaints it P1 red.
 */
async function reportAndTriage(page: Page): Promise<{ id: string; key: string }> {
  await page.getByTestId('dispatcher-view').waitFor();
  await poll(() => page.evaluate(() => window.__cbdMaps?.dispatch?.keys().length ?? 0)).toBeGreaterThan(20);
  const location = await page.evaluate(() => {
    const hook = window.__cbdMaps!.dispatch!;
    const map = hook.map as unknown as { getSize(): { x: number; y: number }; containerPointToLatLng(p: [number, number]): { lat: number; lng: number } };
    const size = map.getSize();
    const points = hook.keys().map((k) => hook.pointOf(k)!).filter(Boolean);
    for (let y = size.y * 0.35; y < size.y * 0.65; y += 13) {
      for (let x = size.x * 0.3; x < size.x * 0.7; x += 17) {
        if (points.every((q) => Math.hypot(q.x - x, q.y - y) > 40)) return map.containerPointToLatLng([x, y]);
      }
    }
    throw new Error('no empty spot on the map');
  });
  const { id } = await apiAs(server, 'dispatcher.police', 'POST', '/api/incidents', { type: 'public_order', priority: 2, location: { lat: location.lat, lng: location.lng }, address: 'Marker canvas (E2E)' });
  const key = `i:${id}`;
  await poll(async () => {
    const p = await pointOf(page, key);
    return p ? colourAt(page, p) : null;
  }).toBe(P2);
  await apiAs(server, 'dispatcher.police', 'POST', `/api/incidents/${id}/triage`, { priority: 1 });
  await poll(async () => colourAt(page, (await pointOf(page, key))!)).toBe(P1);
  return { id, key };
}

/** Every change given to the map is on screen. */
async function caughtUp(page: Page): Promise<void> {
  await poll(() => page.evaluate(() => window.__cbdMaps!.dispatch!.caughtUp())).toBe(true);
}

/** What the map shows after partial redraws equals the same view repainted from scratch, pixel for pixel. */
async function expectSameAsWholeRedraw(page: Page): Promise<void> {
  await caughtUp(page);
  const map = page.getByTestId('dispatch-map');
  const partial = await map.screenshot();
  const whole = await page.evaluate(() => window.__cbdMaps!.dispatch!.wholeDraws());
  await page.evaluate(() => (window.__cbdMaps!.dispatch!.map as unknown as { fire(type: string): void }).fire('moveend'));
  await poll(() => page.evaluate(() => window.__cbdMaps!.dispatch!.wholeDraws())).toBeGreaterThan(whole);
  await caughtUp(page);
  expect((await map.screenshot()).equals(partial)).toBe(true);
}

async function clickMarker(page: Page, key: string): Promise<void> {
  const p = (await pointOf(page, key))!;
  await page.mouse.click(p.x, p.y);
}

// Each test chains many polls of up to 15 s; on a loaded machine the default minute can run out before they do.
describe('the marker canvas in Chromium', { timeout: 180_000 }, () => {
  it('is drawn by a worker: markers show where the map puts them, follow updates, pans and zooms, and open on click', async () => {
    const page = await open();
    await login(page, server.url, 'dispatcher.police');
    const { id, key } = await reportAndTriage(page);
    expect(await page.evaluate(() => window.__cbdMaps!.dispatch!.drawnOn())).toBe('worker');

    // A pan, then an animated zoom onto the marker: the frame follows the map.
    await page.evaluate(() => (window.__cbdMaps!.dispatch!.map as unknown as { panBy(p: [number, number], o: object): void }).panBy([90, -60], { animate: false }));
    await poll(async () => colourAt(page, (await pointOf(page, key))!)).toBe(P1);
    const zoom = () => page.evaluate(() => (window.__cbdMaps!.dispatch!.map as unknown as { getZoom(): number }).getZoom());
    const before = await zoom();
    await page.evaluate((k) => {
      const hook = window.__cbdMaps!.dispatch!;
      const map = hook.map as unknown as { getZoom(): number; setView(ll: [number, number], z: number): void; containerPointToLatLng(p: [number, number]): { lat: number; lng: number } };
      const p = hook.pointOf(k)!;
      const ll = map.containerPointToLatLng([p.x, p.y]);
      map.setView([ll.lat, ll.lng], map.getZoom() + 1);
    }, key);
    await poll(zoom).toBe(before + 1);
    await poll(async () => colourAt(page, (await pointOf(page, key))!)).toBe(P1);

    await clickMarker(page, key);
    await poll(() => page.getByTestId('incident-panel').getAttribute('data-id')).toBe(id);
  });

  it('after many partial redraws shows exactly what a whole redraw of the same markers shows', async () => {
    const page = await open();
    await login(page, server.url, 'admin');
    await page.getByTestId('dispatcher-view').waitFor();
    await poll(() => page.evaluate(() => window.__cbdMaps?.dispatch?.keys().length ?? 0)).toBeGreaterThan(20);
    const counts = await page.evaluate(async () => {
      const { store } = (window as any).__cbd;
      const hook = window.__cbdMaps!.dispatch!;
      let seed = 11;
      const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const statuses = ['reported', 'triaged', 'dispatched', 'on_scene', 'resolved'];
      for (let i = 0; i < 3000; i++) {
        store.upsertIncident({
          id: `canvas-i-${i}`, status: statuses[i % 4], priority: 1 + (i % 5), type: 'public_order',
          location: { lat: 27.08 + rnd() * 0.06, lng: 114.95 + rnd() * 0.08 }, agencies: ['police'], units: [],
          revision: 0, reportedAt: new Date().toISOString(),
        });
      }
      for (let i = 0; i < 300; i++) {
        store.upsertUnit({
          id: `canvas-u-${i}`, callSign: `C-${i}`, agency: 'fire', type: 'engine', readiness: 'available',
          status: 'idle', incidentId: null, position: { lat: 27.08 + rnd() * 0.06, lng: 114.95 + rnd() * 0.08 },
        });
      }
      const frame = () => new Promise((r) => requestAnimationFrame(r));
      // The flood's own (whole) redraw is on screen before counting starts.
      while (hook.keys().length < 3300 || !hook.caughtUp()) await frame();
      const draws = hook.draws();
      const whole = hook.wholeDraws();
      // Moves, restyles (a resolved incident is a faded ring), a marker that leaves and one that comes back.
      for (let round = 0; round < 40; round++) {
        for (let k = 0; k < 10; k++) {
          const i = Math.floor(rnd() * 3000);
          store.upsertIncident({ ...store.incidents.get(`canvas-i-${i}`), status: statuses[(round + k) % 5], revision: round + 1 });
          // Units 0–39 are the ones that leave and come back, below.
          const u = store.units.get(`canvas-u-${40 + (i % 260)}`);
          store.upsertUnit({ ...u, position: { lat: u.position.lat + 0.0004 * (rnd() - 0.5), lng: u.position.lng + 0.0004 * (rnd() - 0.5) } });
        }
        const u = store.units.get(`canvas-u-${round}`);
        store.upsertUnit({ ...u, position: round % 2 ? u.position : null });
        await new Promise((r) => setTimeout(r, 40));
      }
      return { draws, whole };
    });
    // Counted once every change is on screen: on a loaded machine the worker's frames can all land after the rounds.
    await caughtUp(page);
    const after = await page.evaluate(() => ({ draws: window.__cbdMaps!.dispatch!.draws(), whole: window.__cbdMaps!.dispatch!.wholeDraws() }));
    expect(after.draws - counts.draws).toBeGreaterThan(after.whole - counts.whole);
    await expectSameAsWholeRedraw(page);
  });

  it('after most markers leave the map, the rest are still drawn and clicked as they should be', async () => {
    const page = await open();
    await login(page, server.url, 'admin');
    await page.getByTestId('dispatcher-view').waitFor();
    await poll(() => page.evaluate(() => window.__cbdMaps?.dispatch?.keys().length ?? 0)).toBeGreaterThan(20);
    // 6,000 incidents, then 5,500 closed (the dispatcher's map shows open ones): the layer renumbers what is left.
    await page.evaluate(async () => {
      const { store } = (window as any).__cbd;
      const hook = window.__cbdMaps!.dispatch!;
      let seed = 5;
      const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const frame = () => new Promise((r) => requestAnimationFrame(r));
      for (let i = 0; i < 6000; i++) {
        store.upsertIncident({
          id: `gone-i-${i}`, status: 'triaged', priority: 1 + (i % 5), type: 'public_order', agencies: ['police'], units: [],
          location: { lat: 27.08 + rnd() * 0.06, lng: 114.95 + rnd() * 0.08 }, revision: 0, reportedAt: new Date().toISOString(),
        });
      }
      while (!hook.keys().includes('i:gone-i-5999')) await frame();
      for (let i = 0; i < 5500; i++) store.upsertIncident({ ...store.incidents.get(`gone-i-${i}`), status: 'closed', revision: 1 });
      while (hook.keys().includes('i:gone-i-0')) await frame();
      // Then changes to the ones left, drawn as partial redraws over the renumbered markers.
      for (let round = 0; round < 20; round++) {
        for (let k = 0; k < 10; k++) {
          const i = 5500 + Math.floor(rnd() * 500);
          const incident = store.incidents.get(`gone-i-${i}`);
          store.upsertIncident({ ...incident, status: round % 2 ? 'dispatched' : 'on_scene', location: { lat: incident.location.lat + 0.0003, lng: incident.location.lng }, revision: round + 2 });
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    });
    await expectSameAsWholeRedraw(page);

    // One that stands alone, so a click can mean only it.
    const key = await page.evaluate(() => {
      const hook = window.__cbdMaps!.dispatch!;
      const points = hook.keys().map((k) => [k, hook.pointOf(k)!] as const);
      const rect = hook.map.getContainer().getBoundingClientRect();
      return points.find(([k, p]) => k.startsWith('i:gone-i-') && p.x > 80 && p.y > 80 && p.x < rect.width - 80 && p.y < rect.height - 260 && points.every(([o, q]) => o === k || Math.hypot(q.x - p.x, q.y - p.y) > 24))?.[0];
    });
    expect(key).toBeTruthy();
    // The page and the worker agree on which marker is which: it shows in its own colour where the page hit-tests it.
    const fill = await page.evaluate((k) => (window.__cbdMaps!.dispatch!.styleOf(k) as { fill: string }).fill, key!);
    expect(await colourAt(page, (await pointOf(page, key!))!)).toBe(fill);
    await clickMarker(page, key!);
    await poll(() => page.getByTestId('incident-panel').getAttribute('data-id')).toBe(key!.slice(2));
  });

  it.each([
    ['the browser has no OffscreenCanvas', 'delete globalThis.OffscreenCanvas;'],
    ['the worker fails to start', "{ const W = globalThis.Worker; globalThis.Worker = function (url, options) { return new W('/no-such-worker.js', options); }; }"],
  ])('draws on the page thread when %s, markers still updated and clickable', async (_, initScript) => {
    const page = await open(initScript);
    await login(page, server.url, 'dispatcher.police');
    const { id, key } = await reportAndTriage(page);
    expect(await page.evaluate(() => window.__cbdMaps!.dispatch!.drawnOn())).toBe('main');
    await clickMarker(page, key);
    await poll(() => page.getByTestId('incident-panel').getAttribute('data-id')).toBe(id);
  });
});
