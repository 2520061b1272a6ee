// Database outage: PostgreSQL goes away under load (the network to it is cut, or its backends are terminated).
// The API keeps answering — 503 with Retry-After, as problem+json — comes back by itself, and loses nothing it
// acknowledged. Needs a real PostgreSQL (the embedded store lives inside the API process and cannot go away alone).
import postgres from 'postgres';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { callChild, loginChild, startChildServer, type ChildServer } from '../support/childServer.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';
import { DispatchLoad, type Refusal } from './load.ts';
import { TcpProxy } from './tcpProxy.ts';
import { expectNothingLostNothingTwice } from './verify.ts';

const WORKERS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

function expectEveryRefusalIs503WithRetryAfter(refusals: Refusal[]): void {
  const wrong = refusals.filter(
    (r) => r.status !== 503 || !r.retryAfter || !/^\d+$/.test(r.retryAfter) || !/^application\/problem\+json/.test(r.contentType ?? '') || r.body?.status !== 503,
  );
  expect(wrong, 'server errors that are not a clean 503 with Retry-After').toEqual([]);
  for (const r of refusals) expect(r.body.detail).toMatch(/database/i);
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

const serverUrl = process.env.DATABASE_URL;

describe.skipIf(!serverUrl)('PostgreSQL goes away under load', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let server: ChildServer;
  let token: string;

  beforeEach(async () => {
    // Each cleanup holds this test's own database, proxy and server: the variables are the next test's by the time
    // afterAll runs (a closure over them dropped only the last test's database and left the others behind).
    const thisDb = await openTestDatabase({ kind: 'postgres' });
    db = thisDb;
    await db.sql.end();
    cleanups.push(() => thisDb.close());
    const target = new URL(serverUrl!);
    const thisProxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    proxy = thisProxy;
    await proxy.start();
    cleanups.push(() => thisProxy.close());
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const thisServer = await startChildServer({ databaseUrl: viaProxy.toString() });
    server = thisServer;
    cleanups.push(() => thisServer.kill());
    token = await loginChild(server.baseUrl, 'admin');
  });

  it('answers 503 with Retry-After while the network to the database is cut, then recovers by itself, losing nothing', async () => {
    const load = new DispatchLoad(server.baseUrl, token, WORKERS);
    const stop = new AbortController();
    const running = load.run(stop.signal, { retryMs: 100 });
    await waitUntil('the load is flowing', async () => load.acknowledged.length >= 20);

    await proxy.cut();
    const cutAt = load.acknowledged.length;
    // The API process is still there and says what is wrong.
    const health = await callChild(server.baseUrl, 'GET', '/api/health');
    expect(health.status, `the API process is gone:\n${server.stderr()}`).toBe(503);
    expect(health.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(health.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    await waitUntil('commands are refused with 503', async () => load.unavailable.length >= WORKERS * 3);
    await sleep(1000);
    const duringOutage = load.acknowledged.length - cutAt;

    await proxy.restore();
    // No restart, no operator: the same process serves again.
    await waitUntil('commands are acknowledged again', async () => load.acknowledged.length >= cutAt + duringOutage + 40);
    await waitUntil('health is ok again', async () => (await callChild(server.baseUrl, 'GET', '/api/health')).status === 200);
    stop.abort();
    await running;
    await load.drainPending();
    // The projector backs off while the database is away; it catches up on its own once it is back.
    const direct = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanups.push(() => direct.end());
    const [{ events }] = (await direct`select count(*)::int as events from events`) as unknown as [{ events: number }];
    await waitUntil('the server\'s own projector has caught up', async () => {
      const h = await callChild(server.baseUrl, 'GET', '/api/health');
      return h.status === 200 && h.body.projector?.role === 'active' && h.body.projector.seq >= events;
    }, 120_000);
    await direct.end();
    await server.stop();

    // At most the requests in flight at the cut can have been answered without the database (none should be).
    expect(duringOutage).toBeLessThanOrEqual(WORKERS);
    expect(load.unavailable.length).toBeGreaterThan(0);
    expectEveryRefusalIs503WithRetryAfter(load.unavailable);
    await expectNothingLostNothingTwice({ databaseUrl: db.url }, load.acknowledged);
  }, 300_000);

  it('survives its connections being terminated by PostgreSQL, repeatedly, losing nothing', async () => {
    const load = new DispatchLoad(server.baseUrl, token, WORKERS);
    const stop = new AbortController();
    const running = load.run(stop.signal, { retryMs: 100 });
    const admin = postgres(serverUrl!, { max: 1, onnotice: () => {} });
    cleanups.push(() => admin.end());
    const dbName = new URL(db.url).pathname.slice(1);
    let terminated = 0;
    for (let round = 0; round < 5; round++) {
      const before = load.acknowledged.length;
      await waitUntil('the load is flowing', async () => load.acknowledged.length >= before + 15).catch(async (error: Error) => {
        // What the database and the server were doing is what a flake here needs to be understood (a server that had
        // ended shows no sessions, and its last words in stderr).
        const sessions = await admin`select state, wait_event_type, wait_event, left(query, 80) as query from pg_stat_activity where datname = ${dbName}`;
        throw new Error(`${error.message} (round ${round}); sessions ${JSON.stringify(sessions)}\n${server.stderr()}`);
      });
      const rows = await admin<{ ok: boolean }[]>`
        select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
      terminated += rows.filter((r) => r.ok).length;
    }
    const before = load.acknowledged.length;
    await waitUntil('commands are acknowledged after the last termination', async () => load.acknowledged.length >= before + 30).catch((error: Error) => {
      // What the server said, and how the last refusals looked, is what a flake here needs to be understood.
      const last = load.unavailable.slice(-3).map((r) => `${r.status} ${JSON.stringify(r.body)}`);
      throw new Error(`${error.message}; ${load.acknowledged.length - before} acknowledged since, last refusals ${last.join(' | ')}\n${server.stderr()}`);
    });
    stop.abort();
    await running;
    await load.drainPending();
    await server.stop();

    expect(terminated).toBeGreaterThan(0);
    expectEveryRefusalIs503WithRetryAfter(load.unavailable);
    await expectNothingLostNothingTwice({ databaseUrl: db.url }, load.acknowledged);
  }, 300_000);
});

if (!serverUrl) describe('PostgreSQL goes away under load', () => it.skip('needs DATABASE_URL (a real PostgreSQL to cut off)', () => {}));
