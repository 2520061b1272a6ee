// The marker canvas as a dispatcher sees it, read back from screenshots of the page: drawn by a worker (or on the
// page's thread where the browser cannot), showing each marker where the map puts it after updates, pans and zooms,
// and clickable.
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

async function clickMarker(page: Page, key: string): Promise<void> {
  const p = (await pointOf(page, key))!;
  await page.mouse.click(p.x, p.y);
}

describe('the marker canvas in Chromium', () => {
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
