// Browser end-to-end support: the built web app served by the real API, and one headless Chromium.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import web from '../../api/plugins/web.ts';
import { seedDemoCity } from '../../api/seed/demoCity.ts';
import { startTestServer, type TestServer } from './server.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const WEB_DIR = join(REPO_ROOT, 'web');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** Builds web/dist when any source under web/ (or domain/) is newer than it (web/scripts/ensure-built.mjs). */
export function ensureWebBuilt(): void {
  execFileSync(process.execPath, [join(WEB_DIR, 'scripts', 'ensure-built.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
}

export interface E2EServer {
  /** Where the browser goes: the app and its API on one origin. */
  url: string;
  api: TestServer;
  close(): Promise<void>;
}

/**
 * The real server over a fresh database with the demo city of Ji'an seeded. If the composition root does
 * not serve the web app itself, a same-origin front (the web plugin plus a pass-through of /api, WebSocket
 * included) stands in, so the page still talks only to its own origin.
 */
export async function startE2EServer(): Promise<E2EServer> {
  ensureWebBuilt();
  const api = await startTestServer({ demoUsers: false });
  try {
    await seedDemoCity({ store: api.store, sql: api.sql });
    await api.settle();
    const probe = await fetch(`${api.baseUrl}/dispatch`, { headers: { accept: 'text/html' } });
    const servesWeb = probe.ok && (probe.headers.get('content-type') ?? '').includes('text/html');
    await probe.body?.cancel();
    if (servesWeb) return { url: api.baseUrl, api, close: () => api.close() };
    const front = await startFront(api.baseUrl);
    return {
      url: front.url,
      api,
      close: async () => {
        await front.close();
        await api.close();
      },
    };
  } catch (error) {
    await api.close();
    throw error;
  }
}

async function startFront(apiBase: string): Promise<{ url: string; close: () => Promise<void> }> {
  const target = new URL(apiBase);
  const port = Number(target.port);
  const app = Fastify({
    logger: false,
    serverFactory: (handler) =>
      http.createServer((req, res) => {
        if (!req.url?.startsWith('/api')) return handler(req, res);
        const upstream = http.request({ host: target.hostname, port, method: req.method, path: req.url, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      }),
  });
  await app.register(web);
  app.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const upstream = net.connect(port, target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-artifacts', 'screenshots');
export const DOCS_SCREENSHOT_DIR = join(REPO_ROOT, 'docs', 'screenshots');

/** Writes a screenshot as a test artefact and copies it beside the README's pictures. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false });
  copyFileSync(file, join(DOCS_SCREENSHOT_DIR, `${name}.png`));
  return file;
}

/**
 * A fresh context (its own storage, so its own login) whose every request is recorded: the suite asserts
 * that nothing leaves the app's origin.
 */
export async function newContext(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; lang?: 'zh' | 'en'; deviceScaleFactor?: number; isMobile?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; requests: string[] }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1440, height: 900 },
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
    isMobile: options.isMobile ?? false,
    hasTouch: options.isMobile ?? false,
    locale: options.lang === 'en' ? 'en-GB' : 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
  });
  if (options.lang) {
    await context.addInitScript((lang) => {
      if (!localStorage.getItem('cbd.lang')) localStorage.setItem('cbd.lang', lang);
    }, options.lang);
  }
  const page = await context.newPage();
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  return { context, page, requests };
}

/** A command or query through the API as one of the demo users, with an idempotency key; throws on anything but 2xx. */
export async function apiAs<T = any>(server: E2EServer, username: string, method: string, path: string, body?: unknown): Promise<T> {
  const token = await server.api.login(username);
  const res = await server.api.call<T>(method, path, { token, body, headers: { 'idempotency-key': crypto.randomUUID() } });
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Logs in through the form, as a person would. */
export async function login(page: Page, baseUrl: string, username: string, password = 'demo'): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('topbar').waitFor();
}

/** What the app exposes on window for tests (see web/src/map/MapView.tsx and web/src/store/CityContext.tsx). */
declare global {
  interface Window {
    __cbdMaps?: Record<
      string,
      {
        keys(): string[];
        pagePointOf(key: string): { x: number; y: number } | null;
        pointOf(key: string): { x: number; y: number } | null;
        styleOf(key: string): unknown;
        draws(): number;
        wholeDraws(): number;
        lastDrawMs(): number;
        caughtUp(): boolean;
        drawnOn(): 'worker' | 'main' | null;
        map: { latLngToContainerPoint(ll: [number, number]): { x: number; y: number }; getContainer(): HTMLElement };
      }
    >;
  }
}

/**
 * A server and a browser, started side by side. If either fails to start, the other is closed before the error is
 * passed on: a browser missing from the machine must not leave a server and its database behind.
 */
export async function startServerAndBrowser(): Promise<[E2EServer, Browser]> {
  const [server, browser] = await Promise.allSettled([startE2EServer(), launchBrowser()]);
  if (server.status === 'fulfilled' && browser.status === 'fulfilled') return [server.value, browser.value];
  if (server.status === 'fulfilled') await server.value.close().catch(() => {});
  if (browser.status === 'fulfilled') await browser.value.close().catch(() => {});
  throw server.status === 'rejected' ? server.reason : (browser as PromiseRejectedResult).reason;
}

/**
 * One server and one browser for a whole e2e file: started before its tests, closed after them with every
 * browser context the file opened (push them onto `contexts`).
 */
export function useE2E(ready: (server: E2EServer, browser: Browser) => void, contexts: BrowserContext[]): void {
  let server: E2EServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    [server, browser] = await startServerAndBrowser();
    ready(server, browser);
  }, 240_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });
}
