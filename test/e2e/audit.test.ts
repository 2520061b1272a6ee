// The auditor's "verified ✓ / broken at …" badge end to end: the built app, the real server over the seeded
// demo city, and a real headless Chromium. A stored event edited directly in the database turns it to broken,
// naming where; putting the event back turns it to verified again.
import type { Browser, BrowserContext } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { login, newContext, screenshot, useE2E, type E2EServer } from '../support/browser.ts';

let server: E2EServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000, interval: 100 });

useE2E((s, b) => {
  server = s;
  browser = b;
}, contexts);

describe('the audit badge in Chromium', () => {
  it('shows verified ✓ for an intact record, and broken at the edited event once one is changed in the database', async () => {
    const c = await newContext(browser, { lang: 'zh', viewport: { width: 1600, height: 1000 } });
    contexts.push(c.context);
    c.page.on('pageerror', (e) => console.error('page error:', e.message));
    await login(c.page, server.url, 'auditor');
    await c.page.getByTestId('auditor-view').waitFor();
    const badge = c.page.getByTestId('verify-badge');
    await poll(() => badge.getAttribute('data-state')).toBe('verified');
    const [count] = await server.api.sql<{ n: string }[]>`select count(*)::text as n from events`;
    const n = count!.n;
    await poll(() => badge.textContent()).toContain('已校验 ✓');
    await poll(() => badge.textContent()).toContain(`共 ${n} 个事件`);
    await screenshot(c.page, 'auditor-verified');

    const [target] = await server.api.sql<{ id: string; stream: string; revision: string; data: string }[]>`
      select event_id::text as id, stream_id as stream, stream_revision::text as revision, data::text as data from events
       where stream_id like 'incident-%' order by global_position limit 1`;
    await server.api.sql`update events set data = jsonb_set(data, '{priority}', '5') where event_id = ${target!.id}::uuid`;
    try {
      await c.page.getByTestId('verify-again').click();
      await poll(() => badge.getAttribute('data-state')).toBe('broken');
      await poll(() => badge.textContent()).toContain('已损坏 ✗');
      await poll(() => badge.textContent()).toContain(`${target!.stream} 第 ${target!.revision} 版`);
      await poll(() => c.page.getByTestId('verify-detail').textContent()).toContain(target!.id);
      await screenshot(c.page, 'auditor-broken');

      // The English badge says the same.
      await c.page.evaluate(() => localStorage.setItem('cbd.lang', 'en'));
      await c.page.reload();
      await poll(() => badge.getAttribute('data-state')).toBe('broken');
      await poll(() => badge.textContent()).toContain(`Broken ✗ at ${target!.stream} revision ${target!.revision}`);
    } finally {
      await server.api.sql`update events set data = ${target!.data}::text::jsonb where event_id = ${target!.id}::uuid`;
    }
    // Put back as it was, the record verifies again.
    await c.page.getByTestId('verify-again').click();
    await poll(() => badge.getAttribute('data-state')).toBe('verified');
    await poll(() => badge.textContent()).toContain('Verified ✓');
  }, 120_000);
});
