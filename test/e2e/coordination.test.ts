// Multi-agency coordination in the browser: the incident panel's legs, the explained recommendations, the
// duplicate warning on report (merge and split), and an overdue alert turning the incident red on the map.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { StatusTimerWatch } from '../../api/decision/statusTimerWatch.ts';
import { apiAs, login, newContext, screenshot, useE2E, type E2EServer } from '../support/browser.ts';

let server: E2EServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000, interval: 100 });

async function open(lang: 'zh' | 'en' = 'en'): Promise<Page> {
  const c = await newContext(browser, { lang });
  contexts.push(c.context);
  c.page.on('pageerror', (e) => console.error('page error:', e.message));
  return c.page;
}

const api = <T = any>(username: string, method: string, path: string, body?: unknown) => apiAs<T>(server, username, method, path, body);

async function openIncident(page: Page, id: string): Promise<void> {
  await page.getByTestId('dispatcher-view').waitFor();
  await page.locator(`[data-testid="queue-item"][data-id="${id}"]`).click();
  await poll(() => page.getByTestId('incident-panel').getAttribute('data-id')).toBe(id);
}

useE2E((s, b) => {
  server = s;
  browser = b;
}, contexts);

// Each test chains many polls of up to 15 s; on a loaded machine the default minute can run out before they do.
describe('coordination in Chromium', { timeout: 180_000 }, () => {
  it('shows one leg per agency with the run card applied, and the recommendations with their reasons', async () => {
    const place = { lat: 27.112, lng: 114.983 };
    const { id } = await api('dispatcher.traffic', 'POST', '/api/incidents', { type: 'traffic_accident_injuries', priority: 2, location: place, address: '井冈山大道 (E2E legs)' });
    await api('dispatcher.traffic', 'POST', `/api/incidents/${id}/triage`, {});
    await server.api.settle();

    const page = await open('en');
    await login(page, server.url, 'dispatcher.ems');
    await openIncident(page, id);

    const legs = page.locator('[data-testid="leg"]');
    await poll(() => legs.count()).toBe(3);
    expect(await legs.evaluateAll((els) => els.map((e) => [e.getAttribute('data-agency'), e.getAttribute('data-status'), e.getAttribute('data-lead')]))).toEqual([
      ['traffic', 'pending', 'true'],
      ['ems', 'pending', 'false'],
      ['fire', 'pending', 'false'],
    ]);
    const ems = page.locator('[data-testid="leg"][data-agency="ems"]');
    await expect(ems.getByTestId('leg-missing').textContent()).resolves.toMatch(/2 × Ambulance/);
    // Only EMS's own leg has buttons for an EMS dispatcher.
    expect(await page.locator('[data-testid="leg"][data-agency="traffic"] [data-testid="leg-claim"]').count()).toBe(0);
    await ems.getByTestId('leg-claim').click();
    await poll(() => ems.getByTestId('leg-owner').textContent()).toBe('dispatcher.ems');

    // The recommendations are the API's, best first, each saying why.
    const expected = await api<any[]>('dispatcher.ems', 'GET', `/api/incidents/${id}/recommendations`);
    expect(expected.length).toBeGreaterThan(1);
    const options = page.locator('[data-testid="assign-option"]');
    await poll(() => page.locator('[data-testid="rec-reason"]').count()).toBeGreaterThan(1);
    const shown = await options.evaluateAll((els) => els.map((e) => e.getAttribute('data-unit-id')));
    expect(shown).toEqual(expected.slice(0, shown.length).map((r) => r.unitId));
    const reasons = await page.locator('[data-testid="rec-reason"]').allTextContents();
    expect(reasons[0]).toBe(expected[0].reason);
    for (const reason of reasons) expect(reason).toMatch(/^\d+\.\d km, ~\d+ min, ambulance, available since \d\d:\d\d; /);
    await screenshot(page, 'coordination-legs');

    // Assigning the top one moves the EMS leg on and shrinks what is missing, live.
    await options.first().getByTestId('assign-button').click();
    await poll(() => ems.getAttribute('data-status')).toBe('dispatched');
    await expect(ems.getByTestId('leg-missing').textContent()).resolves.toMatch(/1 × Ambulance/);
  });

  it('warns on report that the new incident probably duplicates one nearby; merge and split from the panel', async () => {
    const page = await open('en');
    await login(page, server.url, 'dispatcher.fire');
    await page.getByTestId('dispatcher-view').waitFor();
    await poll(() => page.evaluate(() => window.__cbdMaps?.dispatch?.keys().length ?? 0)).toBeGreaterThan(20);

    // Open the report form on an empty spot of the map, then let another call about the same fire come in nearby.
    const spot = await page.evaluate(() => {
      const hook = window.__cbdMaps!.dispatch!;
      const rect = hook.map.getContainer().getBoundingClientRect();
      const points = hook.keys().map((k) => hook.pagePointOf(k)!).filter(Boolean);
      for (let y = rect.top + 120; y < rect.bottom - 220; y += 23) {
        for (let x = rect.left + 120; x < rect.right - 120; x += 29) {
          if (points.every((q) => Math.hypot(q.x - x, q.y - y) > 40)) return { x, y };
        }
      }
      throw new Error('no empty spot on the map');
    });
    await page.mouse.click(spot.x, spot.y);
    const form = page.getByTestId('report-form');
    await form.waitFor();
    const location = await page.evaluate(({ x, y }) => {
      const hook = window.__cbdMaps!.dispatch!;
      const rect = hook.map.getContainer().getBoundingClientRect();
      const ll = (hook.map as unknown as { containerPointToLatLng(p: [number, number]): { lat: number; lng: number } }).containerPointToLatLng([x - rect.left, y - rect.top]);
      return { lat: ll.lat, lng: ll.lng };
    }, spot);
    const first = await api('dispatcher.fire', 'POST', '/api/incidents', { type: 'fire', priority: 2, location: { lat: location.lat + 0.0009, lng: location.lng }, address: 'First call (E2E)' });
    await server.api.settle();

    await page.getByTestId('report-type').selectOption('fire');
    await page.getByTestId('report-address').fill('Second call about the same fire (E2E)');
    await page.getByTestId('report-submit').click();
    await form.waitFor({ state: 'detached' });
    const panel = page.getByTestId('incident-panel');
    await poll(() => panel.getAttribute('data-status')).toBe('reported');
    const second = (await panel.getAttribute('data-id'))!;
    expect(second).not.toBe(first.id);

    const warning = page.getByTestId('duplicate-warning');
    await warning.waitFor();
    const candidate = warning.locator(`[data-testid="duplicate-candidate"][data-id="${first.id}"]`);
    await expect(candidate.textContent()).resolves.toMatch(/\d+ m and [\d.]+ min from INC-/);
    await screenshot(page, 'coordination-duplicate');

    await candidate.getByTestId('merge-button').click();
    await page.getByTestId('merged-into').waitFor();
    await poll(() => panel.getAttribute('data-status')).toBe('closed');
    // The primary absorbs the duplicate in a second command, and its read model may lag the panel.
    await poll(async () => (await api('auditor', 'GET', `/api/incidents/${first.id}`)).mergedFrom).toEqual([second]);

    await page.getByTestId('split-button').click();
    await poll(() => panel.getAttribute('data-status')).toBe('reported');
    await server.api.settle();
    expect((await api('auditor', 'GET', `/api/incidents/${first.id}`)).mergedFrom).toEqual([]);
  });

  it('an overdue alert from the status timers turns the incident red on the map and flags the panel', async () => {
    const page = await open('en');
    await login(page, server.url, 'dispatcher.police');
    const { id } = await api('dispatcher.police', 'POST', '/api/incidents', { type: 'crime_in_progress', priority: 1, location: { lat: 27.118, lng: 114.99 }, address: 'Overdue (E2E)' });
    await server.api.settle();
    await openIncident(page, id);
    await poll(() => page.evaluate((key) => (window.__cbdMaps?.dispatch?.styleOf(key) as { fill?: string } | null)?.fill ?? null, `i:${id}`)).not.toBe('#dc2626');

    const reportedAt = Date.parse((await api('auditor', 'GET', `/api/incidents/${id}`)).reportedAt);
    const watch = new StatusTimerWatch({ store: server.api.store, sql: server.api.sql });
    const raised = await watch.tick(reportedAt + 60_000);
    expect(raised.filter((r) => r.incidentId === id).map((r) => r.ruleId)).toEqual(['p1-not-dispatched']);

    await poll(() => page.evaluate((key) => (window.__cbdMaps?.dispatch?.styleOf(key) as { fill?: string } | null)?.fill ?? null, `i:${id}`)).toBe('#dc2626');
    await page.getByTestId('panel-overdue').waitFor();
    await screenshot(page, 'coordination-overdue');
  });
});
