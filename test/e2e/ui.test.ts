// The map UI end to end: the built app, the real server and live feed, the demo city of Ji'an, and a real
// headless Chromium. One server and one browser serve every test; each user gets a context of their own.
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { login, newContext, screenshot, useE2E, type E2EServer } from '../support/browser.ts';

let server: E2EServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Every URL any page asked for, across all contexts. */
const requested: string[] = [];

async function open(options: Parameters<typeof newContext>[1] = {}) {
  const c = await newContext(browser, options);
  contexts.push(c.context);
  c.context.on('request', (r) => requested.push(r.url()));
  c.page.on('pageerror', (e) => console.error('page error:', e.message));
  return c;
}

/** The UI is live but not instant: give it what a person would wait. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000, interval: 100 });

async function api<T = any>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await server.api.call<T>(method, path, { token, body, headers: { 'idempotency-key': crypto.randomUUID() } });
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Page coordinates of a spot on the map with no marker near it, so a click there reports rather than selects. */
async function emptyMapSpot(page: Page, mapName: string, near: { lat: number; lng: number }): Promise<{ x: number; y: number; lat: number; lng: number }> {
  return page.evaluate(
    ({ mapName, near }) => {
      const hook = window.__cbdMaps![mapName]!;
      const points = hook.keys().map((k) => hook.pagePointOf(k)!).filter(Boolean);
      const rect = hook.map.getContainer().getBoundingClientRect();
      for (let ring = 0; ring < 12; ring++) {
        for (let a = 0; a < 8; a++) {
          const lat = near.lat + Math.sin((a * Math.PI) / 4) * ring * 0.002;
          const lng = near.lng + Math.cos((a * Math.PI) / 4) * ring * 0.002;
          const p = hook.map.latLngToContainerPoint([lat, lng]);
          const x = rect.left + p.x;
          const y = rect.top + p.y;
          if (p.x < 60 || p.y < 60 || p.x > rect.width - 60 || p.y > rect.height - 200) continue;
          if (points.every((q) => Math.hypot(q.x - x, q.y - y) > 30)) return { x, y, lat, lng };
        }
      }
      throw new Error('no empty spot on the map');
    },
    { mapName, near },
  );
}

async function markerShape(page: Page, mapName: string, key: string): Promise<string | null> {
  return page.evaluate(({ mapName, key }) => (window.__cbdMaps?.[mapName]?.styleOf(key) as { shape?: string } | null)?.shape ?? null, { mapName, key });
}

useE2E((s, b) => {
  server = s;
  browser = b;
}, contexts);

// Each test chains many polls of up to 15 s; on a loaded machine the default minute can run out before they do.
describe('the map UI in Chromium', { timeout: 180_000 }, () => {
  it('dispatcher reports, triages and assigns; a supervisor sees it live and puts the unit on scene', async () => {
    const d = await open({ lang: 'zh' });
    await d.page.goto(server.url);
    await screenshot(d.page, 'login');
    await login(d.page, server.url, 'dispatcher.police');
    await d.page.getByTestId('dispatcher-view').waitFor();
    await poll(() => d.page.getByTestId('live-indicator').getAttribute('data-status')).toBe('live');

    const s = await open({ lang: 'zh', viewport: { width: 390, height: 844 }, isMobile: true, deviceScaleFactor: 2 });
    await login(s.page, server.url, 'supervisor.police');
    await s.page.getByTestId('supervisor-view').waitFor();
    await poll(() => s.page.getByTestId('live-indicator').getAttribute('data-status')).toBe('live');

    // Report: click an empty spot of the map in Jizhou.
    await poll(() => d.page.evaluate(() => window.__cbdMaps?.dispatch?.keys().length ?? 0)).toBeGreaterThan(20);
    const spot = await emptyMapSpot(d.page, 'dispatch', { lat: 27.108, lng: 114.975 });
    await d.page.mouse.click(spot.x, spot.y);
    const form = d.page.getByTestId('report-form');
    await form.waitFor();
    await d.page.getByTestId('report-type').selectOption('crime_in_progress');
    await d.page.getByTestId('report-address').fill('吉州区井冈山大道 168 号 (E2E)');
    await d.page.getByTestId('report-description').fill('Two men breaking into a shop; caller hiding in the back room.');
    await screenshot(d.page, 'dispatcher-report');
    await d.page.getByTestId('report-submit').click();
    await form.waitFor({ state: 'detached' });

    const panel = d.page.getByTestId('incident-panel');
    await poll(() => panel.getAttribute('data-status')).toBe('reported');
    const id = (await panel.getAttribute('data-id'))!;
    expect(await panel.getAttribute('data-priority')).toBe('1');
    // The new incident is on the map and at the top of the queue.
    await poll(() => markerShape(d.page, 'dispatch', `i:${id}`)).toBe('circle');
    await poll(() => d.page.locator(`[data-testid="queue-item"][data-id="${id}"]`).count()).toBe(1);

    // Triage as proposed.
    await d.page.getByTestId('triage-submit').click();
    await poll(() => panel.getAttribute('data-status')).toBe('triaged');
    await poll(() => markerShape(d.page, 'dispatch', `i:${id}`)).toBe('diamond');

    // Assign the recommended unit: the nearest available police unit.
    const top = d.page.locator('[data-testid="assign-option"][data-recommended="true"]');
    await top.waitFor();
    const unitId = (await top.getAttribute('data-unit-id'))!;
    await expect(top.getByTestId('recommended-badge').textContent()).resolves.toContain('推荐');
    const units = await api<any[]>(await server.api.login('dispatcher.police'), 'GET', '/api/units?agency=police&status=idle');
    const nearest = units
      .filter((u) => u.readiness === 'available' && u.position)
      .sort((a, b) => Math.hypot(a.position.lat - spot.lat, (a.position.lng - spot.lng) * 0.89) - Math.hypot(b.position.lat - spot.lat, (b.position.lng - spot.lng) * 0.89))[0];
    expect(unitId).toBe(nearest.id);
    await top.getByTestId('assign-button').click();
    await poll(() => panel.getAttribute('data-status')).toBe('dispatched');
    await d.page.locator(`[data-testid="assigned-unit"][data-unit-id="${unitId}"]`).waitFor();
    await poll(() => markerShape(d.page, 'dispatch', `i:${id}`)).toBe('triangle');
    await screenshot(d.page, 'dispatcher-incident');

    // The supervisor's phone shows it without a reload, and moves the unit on scene.
    const card = s.page.locator(`[data-testid="field-incident"][data-id="${id}"]`);
    await card.waitFor();
    const unitRow = card.locator(`[data-testid="field-incident-unit"][data-unit-id="${unitId}"]`);
    await unitRow.waitFor();
    await screenshot(s.page, 'supervisor-phone');
    await unitRow.getByTestId('unit-status-on_scene').click();
    await poll(() => unitRow.getAttribute('data-status')).toBe('on_scene');

    // The dispatcher's panel and map follow, still without a reload.
    await poll(() => panel.getAttribute('data-status')).toBe('on_scene');
    await poll(() => markerShape(d.page, 'dispatch', `i:${id}`)).toBe('square');
    await poll(() => d.page.locator(`[data-testid="assigned-unit"][data-unit-id="${unitId}"]`).getAttribute('data-status')).toBe('on_scene');
    await poll(() => d.page.getByTestId('timeline-item').count()).toBeGreaterThanOrEqual(4);

    // A note from the field reaches the dispatcher's timeline.
    await card.getByTestId('field-note-text').fill('现场已控制，嫌疑人一名已被控制。');
    await card.getByTestId('field-note-submit').click();
    await poll(() => d.page.locator('[data-testid="timeline-item"][data-type="IncidentNoteAdded"]').count()).toBe(1);

    // A dropped connection shows as reconnecting, then resumes where it left off.
    // The indicator's states are recorded as they change: "reconnecting" lasts about half a second, shorter than
    // one look from the test runner can take on a loaded machine.
    await d.page.evaluate(() => {
      const seen: string[] = ((window as any).__liveStatuses = []);
      const indicator = document.querySelector('[data-testid="live-indicator"]')!;
      new MutationObserver(() => seen.push(indicator.getAttribute('data-status')!)).observe(indicator, { attributeFilter: ['data-status'] });
      (window as any).__cbd.feed.drop();
    });
    await poll(() => d.page.evaluate(() => (window as any).__liveStatuses.join(' '))).toMatch(/reconnecting.*live$/);
    await api(await server.api.login('dispatcher.police'), 'POST', `/api/incidents/${id}/escalate`, { agencies: ['traffic'], reason: 'Road blocked' });
    await poll(() => d.page.locator('[data-testid="incident-agencies"] [data-agency="traffic"]').count()).toBe(1);
    await screenshot(d.page, 'dispatcher-live');
  });

  it('two dispatchers assign the same unit at once: one succeeds, the other is told clearly', async () => {
    const token = await server.api.login('dispatcher.police');
    const spot = { lat: 27.126, lng: 114.996 };
    const ids: string[] = [];
    for (const address of ['韶山路 12 号 (A)', '韶山路 14 号 (B)']) {
      const { id } = await api(token, 'POST', '/api/incidents', { type: 'public_order', priority: 3, location: spot, address });
      await api(token, 'POST', `/api/incidents/${id}/triage`, {});
      ids.push(id);
    }
    await server.api.settle();

    const one = await open({ lang: 'zh' });
    const two = await open({ lang: 'zh' });
    await login(one.page, server.url, 'dispatcher.police');
    await login(two.page, server.url, 'admin');
    const pick = async (page: Page, id: string) => {
      await page.getByTestId('dispatcher-view').waitFor();
      await page.locator(`[data-testid="queue-item"][data-id="${id}"]`).click();
      await poll(() => page.getByTestId('incident-panel').getAttribute('data-id')).toBe(id);
      const top = page.locator('[data-testid="assign-option"][data-recommended="true"]');
      await top.waitFor();
      return top;
    };
    const [topOne, topTwo] = [await pick(one.page, ids[0]!), await pick(two.page, ids[1]!)];
    const unitId = await topOne.getAttribute('data-unit-id');
    expect(await topTwo.getAttribute('data-unit-id')).toBe(unitId);

    // "At once" means neither screen has heard of the other's assignment when its dispatcher clicks. Clicks from
    // the test runner land milliseconds or, on a loaded machine, a second apart, and a screen that has heard
    // already offers another unit. So both feeds pause for the clicks, and both buttons are the contested unit's.
    const feeds = (action: 'stop' | 'start') =>
      Promise.all([one.page, two.page].map((page) => page.evaluate((a) => (window as any).__cbd.feed[a](), action)));
    await feeds('stop');
    const button = (page: Page) => page.locator(`[data-testid="assign-option"][data-unit-id="${unitId}"]`).getByTestId('assign-button');
    await Promise.all([button(one.page).click(), button(two.page).click()]);

    const outcome = async (page: Page) => {
      await poll(async () => (await page.getByTestId('toast-success').count()) + (await page.getByTestId('toast-conflict').count())).toBeGreaterThan(0);
      return (await page.getByTestId('toast-conflict').count()) > 0 ? 'conflict' : 'success';
    };
    const results = [await outcome(one.page), await outcome(two.page)];
    expect([...results].sort()).toEqual(['conflict', 'success']);
    await feeds('start');
    const loserPage = results[0] === 'conflict' ? one.page : two.page;
    const message = await loserPage.getByTestId('toast-conflict').textContent();
    expect(message).toMatch(/派遣冲突/);
    expect(message!.length).toBeGreaterThan(12);
    // The loser's list no longer offers the unit that went elsewhere.
    await poll(() => loserPage.locator(`[data-testid="assign-option"][data-unit-id="${unitId}"]`).count()).toBe(0);
    await screenshot(loserPage, 'dispatcher-conflict');
  });

  it('auditor replays an incident of many events, step by step, and exports it', async () => {
    const dispatcher = await server.api.login('dispatcher.police');
    const supervisor = await server.api.login('supervisor.police');
    const location = { lat: 27.118, lng: 114.986 };
    const { id } = await api(dispatcher, 'POST', '/api/incidents', {
      type: 'public_order',
      priority: 3,
      location,
      address: '吉州区人民广场 (replay)',
      description: 'Crowd dispute at the square',
      source: 'hotline_12345',
    });
    await api(dispatcher, 'POST', `/api/incidents/${id}/triage`, { priority: 3 });
    await api(dispatcher, 'POST', `/api/incidents/${id}/notes`, { text: '报警人称有人受伤' });
    const free = (await api<any[]>(dispatcher, 'GET', '/api/units?agency=police&status=idle&readiness=available'))[0];
    await api(dispatcher, 'POST', `/api/incidents/${id}/assignments`, { unitId: free.id });
    await api(supervisor, 'POST', `/api/incidents/${id}/units/${free.id}/status`, { status: 'en_route' });
    await api(dispatcher, 'POST', `/api/incidents/${id}/escalate`, { priority: 2, reason: '现场人数增多' });
    await api(supervisor, 'POST', `/api/incidents/${id}/units/${free.id}/status`, { status: 'on_scene' });
    await api(supervisor, 'POST', `/api/incidents/${id}/notes`, { text: '双方已分开，秩序恢复' });
    await api(supervisor, 'POST', `/api/incidents/${id}/units/${free.id}/status`, { status: 'cleared' });
    await api(supervisor, 'POST', `/api/incidents/${id}/resolve`, { summary: '调解完毕' });
    await api(dispatcher, 'POST', `/api/incidents/${id}/close`, {});
    await server.api.settle();
    const history = await api<any[]>(await server.api.login('auditor'), 'GET', `/api/incidents/${id}/history`);
    expect(history.length).toBeGreaterThanOrEqual(10);

    const a = await open({ lang: 'zh', viewport: { width: 1600, height: 1000 } });
    await login(a.page, server.url, 'auditor');
    await a.page.getByTestId('auditor-view').waitFor();
    await a.page.getByTestId('audit-type').selectOption('public_order');
    await a.page.getByTestId('audit-actor').fill('supervisor.police');
    await a.page.getByTestId('audit-submit').click();
    await a.page.locator(`[data-testid="audit-result"][data-id="${id}"]`).click();
    const replay = a.page.getByTestId('replay');
    await poll(() => replay.getAttribute('data-steps')).toBe(String(history.length));

    // Expected incident status after each step, folded independently of the app.
    const after: Record<string, string> = {
      IncidentReported: 'reported',
      IncidentTriaged: 'triaged',
      UnitAssignedToIncident: 'dispatched',
      IncidentResolved: 'resolved',
      IncidentClosed: 'closed',
    };
    let status = 'new';
    for (let i = 0; i < history.length; i++) {
      const h = history[i]!;
      if (i > 0) await a.page.getByTestId('replay-next').click();
      await poll(() => replay.getAttribute('data-step')).toBe(String(i));
      status = after[h.type] ?? (h.type === 'AssignedUnitStatusChanged' && h.data.status === 'on_scene' ? 'on_scene' : status);
      await poll(() => a.page.getByTestId('replay-event').getAttribute('data-type')).toBe(h.type);
      expect(await a.page.getByTestId('replay-actor').textContent()).toBe(h.actorName ?? h.actor);
      expect(await a.page.getByTestId('replay-role').getAttribute('data-role')).toBe(h.role ?? '');
      expect(await a.page.getByTestId('replay-agency').getAttribute('data-agency')).toBe(h.agency ?? '');
      expect(await a.page.getByTestId('replay-reason').textContent()).toBe(h.reason || '—');
      expect(await a.page.getByTestId('replay-state').getAttribute('data-status')).toBe(status);
      if (h.type === 'IncidentEscalated') {
        expect(await a.page.getByTestId('replay-state').getAttribute('data-priority')).toBe('2');
        await screenshot(a.page, 'auditor-replay');
      }
    }
    // The scrubber jumps anywhere; the buttons step back.
    await a.page.getByTestId('replay-scrubber').fill('2');
    await poll(() => replay.getAttribute('data-step')).toBe('2');
    await a.page.getByTestId('replay-prev').click();
    await poll(() => replay.getAttribute('data-step')).toBe('1');
    expect(await a.page.getByTestId('replay-state').getAttribute('data-status')).toBe('triaged');

    const [jsonDownload] = await Promise.all([a.page.waitForEvent('download'), a.page.getByTestId('export-json').click()]);
    const exported = JSON.parse(readFileSync((await jsonDownload.path())!, 'utf8'));
    expect(exported.history).toHaveLength(history.length);
    expect(exported.history.map((h: any) => h.position)).toEqual(history.map((h) => h.position));
    const [csvDownload] = await Promise.all([a.page.waitForEvent('download'), a.page.getByTestId('export-csv').click()]);
    expect(csvDownload.suggestedFilename()).toMatch(/\.csv$/);
    const csv = readFileSync((await csvDownload.path())!, 'utf8').replace(/^\uFEFF/, '');
    expect(csv.trim().split('\r\n')).toHaveLength(history.length + 1);
    expect(csv).toContain('IncidentEscalated');
    expect(csv).toContain('现场人数增多');
  });

  it('dashboard shows the figures GET /api/dashboard gives, and updates live', async () => {
    const auditor = await server.api.login('auditor');
    await server.api.settle();
    const a = await open({ lang: 'zh', viewport: { width: 1600, height: 1000 } });
    await login(a.page, server.url, 'auditor');
    await a.page.getByTestId('nav-dashboard').click();
    const view = a.page.getByTestId('dashboard-view');
    await poll(() => view.getAttribute('data-loaded')).toBe('true');
    const expected = await api<any>(auditor, 'GET', '/api/dashboard');

    const attr = (testId: string, name: string) => a.page.getByTestId(testId).getAttribute(name);
    await poll(() => attr('kpi-open', 'data-value')).toBe(String(expected.open.total));
    expect(await attr('kpi-units-available', 'data-value')).toBe(String(expected.units.available));
    expect(await attr('kpi-units-busy', 'data-value')).toBe(String(expected.units.busy));
    expect(await attr('kpi-units-out', 'data-value')).toBe(String(expected.units.outOfService));
    for (const [testId, key] of [['kpi-dispatch', 'receivedToDispatch'], ['kpi-onscene', 'receivedToOnScene'], ['kpi-resolved', 'receivedToResolved']] as const) {
      const k = expected.kpis[key];
      expect(await attr(testId, 'data-p50')).toBe(k.p50 === null ? '' : String(k.p50));
      expect(await attr(testId, 'data-p90')).toBe(k.p90 === null ? '' : String(k.p90));
      expect(await attr(testId, 'data-n')).toBe(String(k.n));
      // What a person reads: minutes with one decimal.
      expect(await a.page.getByTestId(`${testId}-p50`).textContent()).toBe(k.p50 === null ? '—' : (k.p50 / 60).toFixed(1));
    }
    const table = async (testId: string) =>
      Object.fromEntries(await a.page.getByTestId(testId).locator('tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-key'), Number(r.getAttribute('data-value'))])));
    expect(await table('table-by-agency')).toEqual(expected.open.byAgency);
    expect(await table('table-by-priority')).toEqual(expected.open.byPriority);
    expect(await table('table-by-type')).toEqual(expected.countsByType);
    expect(await a.page.getByTestId('kpi-open').locator('.kpi__value').textContent()).toBe(String(expected.open.total));
    await screenshot(a.page, 'dashboard');

    // A new incident anywhere in the city shows up without a reload.
    await api(await server.api.login('dispatcher.fire'), 'POST', '/api/incidents', { type: 'fire', priority: 1, location: { lat: 27.1, lng: 115.02 }, address: '青原区 (dashboard)' });
    await poll(() => attr('kpi-open', 'data-value')).toBe(String(expected.open.total + 1));

    // The wall display: 1920×1080, dark, live.
    const big = await open({ lang: 'zh', viewport: { width: 1920, height: 1080 } });
    await login(big.page, server.url, 'auditor');
    await big.page.goto(`${server.url}/bigscreen`);
    await poll(() => big.page.getByTestId('dashboard-view').getAttribute('data-loaded')).toBe('true');
    await poll(() => big.page.getByTestId('live-indicator').getAttribute('data-status')).toBe('live');
    await big.page.waitForTimeout(600);
    await screenshot(big.page, 'dashboard-bigscreen');
  });

  it('renders in English and in Chinese (the default), remembering the choice', async () => {
    const zh = await open();
    await zh.page.goto(server.url);
    expect(await zh.page.getByTestId('login-submit').textContent()).toBe('登录');
    expect(await zh.page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');

    const en = await open({ lang: 'en' });
    await en.page.goto(server.url);
    expect(await en.page.getByTestId('login-submit').textContent()).toBe('Sign in');
    await login(en.page, server.url, 'dispatcher.fire');
    await en.page.getByTestId('dispatcher-view').waitFor();
    expect(await en.page.getByTestId('nav-dispatch').textContent()).toBe('Dispatch');
    expect(await en.page.evaluate(() => document.documentElement.lang)).toBe('en');
    await poll(() => en.page.getByTestId('live-indicator').textContent()).toBe('Live');
    await en.page.locator('[data-testid="queue-item"]').first().click();
    await en.page.getByTestId('incident-panel').waitFor();
    await en.page.getByTestId('timeline-item').first().waitFor();
    await screenshot(en.page, 'dispatcher-en');

    await en.page.getByTestId('lang-switch').click();
    expect(await en.page.getByTestId('nav-dispatch').textContent()).toBe('调度台');
    await en.page.reload();
    await en.page.getByTestId('dispatcher-view').waitFor();
    expect(await en.page.getByTestId('nav-dispatch').textContent()).toBe('调度台');
    await poll(() => en.page.getByTestId('live-indicator').textContent()).toBe('实时');
  });

  it('keeps the map responsive with 10,000 incidents, 2,000 units and 100 updates a second', async () => {
    const d = await open({ lang: 'zh' });
    await login(d.page, server.url, 'admin');
    await d.page.getByTestId('dispatcher-view').waitFor();
    await poll(() => d.page.evaluate(() => window.__cbdMaps?.dispatch?.keys().length ?? 0)).toBeGreaterThan(20);
    const before = await d.page.evaluate(() => window.__cbdMaps!.dispatch!.keys().length);

    // Synthetic entities go straight into the page's store, as a flood from the live feed would.
    const figures = await d.page.evaluate(async () => {
      const { store } = (window as any).__cbd;
      const hook = window.__cbdMaps!.dispatch!;
      let seed = 42;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const statuses = ['reported', 'triaged', 'dispatched', 'on_scene'];
      const agencies = ['police', 'traffic', 'fire', 'ems', 'safety', 'urban'];
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
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      await frame();
      const fullDrawMs = hook.lastDrawMs();
      const markers = hook.keys().length;
      // 100 updates a second for three seconds: moves and status changes, as a busy evening would bring.
      const drawsBefore = hook.draws();
      const drawTimes: number[] = [];
      let lastDraws = drawsBefore;
      const sampler = setInterval(() => {
        if (hook.draws() !== lastDraws) {
          lastDraws = hook.draws();
          drawTimes.push(hook.lastDrawMs());
        }
      }, 5);
      const started = performance.now();
      let n = 0;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          for (let k = 0; k < 10; k++, n++) {
            const i = Math.floor(rnd() * 10_000);
            store.upsertIncident({ ...store.incidents.get(`bench-i-${i}`), status: statuses[n % 4], revision: n + 1 });
            const u = store.units.get(`bench-u-${i % 2000}`);
            store.upsertUnit({ ...u, position: { lat: u.position.lat + 0.0003, lng: u.position.lng } });
          }
          if (performance.now() - started > 3000) {
            clearInterval(timer);
            resolve();
          }
        }, 100);
      });
      clearInterval(sampler);
      await frame();
      drawTimes.sort((a, b) => a - b);
      return {
        markers,
        fullDrawMs,
        updates: n * 2,
        drawsBefore,
        redrawsDuringUpdates: hook.draws() - drawsBefore,
        p50DrawMs: drawTimes[Math.floor(drawTimes.length / 2)] ?? 0,
        maxDrawMs: drawTimes[drawTimes.length - 1] ?? 0,
      };
    });
    // Figures for the record; speed is measured, never asserted, on a shared machine: on a loaded one the
    // worker's frames may all land after the three seconds, so what must hold is that they land at all.
    console.info('[canvas layer]', JSON.stringify(figures));
    expect(figures.markers).toBe(before + 12_000);
    await poll(() => d.page.evaluate(() => window.__cbdMaps!.dispatch!.caughtUp())).toBe(true);
    const shown = await d.page.evaluate(() => {
      const hook = window.__cbdMaps!.dispatch!;
      const canvas = hook.map.getContainer().querySelector<HTMLCanvasElement>('[data-testid="marker-canvas"]')!;
      return { draws: hook.draws(), markers: Number(canvas.dataset.markers) };
    });
    expect(shown.draws).toBeGreaterThan(figures.drawsBefore);
    expect(shown.markers).toBe(figures.markers);

    // Hit-testing still picks the right marker among thousands: click one and the panel opens on it.
    const key = await d.page.evaluate(() => {
      const hook = window.__cbdMaps!.dispatch!;
      const rect = hook.map.getContainer().getBoundingClientRect();
      return hook.keys().filter((k) => k.startsWith('i:bench-i-')).find((k) => {
        const p = hook.pointOf(k)!;
        return p.x > 80 && p.y > 80 && p.x < rect.width - 80 && p.y < rect.height - 260 && (hook.styleOf(k) as any).z === 105;
      });
    });
    expect(key).toBeTruthy();
    const at = await d.page.evaluate((k) => window.__cbdMaps!.dispatch!.pagePointOf(k)!, key!);
    await d.page.mouse.click(at.x, at.y);
    await poll(() => d.page.getByTestId('incident-panel').getAttribute('data-id')).toMatch(/^bench-i-/);
    await screenshot(d.page, 'dispatcher-10k');
  });

  it('never makes a request anywhere but its own origin', () => {
    const origin = new URL(server.url).origin;
    expect(requested.length).toBeGreaterThan(50);
    const elsewhere = requested.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin);
    expect(elsewhere).toEqual([]);
  });
});
