import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { HelloMessage } from '../../api/live/messages.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';
import { eventually, LiveClient } from './liveClient.ts';

// `npm start` as a person runs it: a child process, the printed URL, the demo logins, Ctrl+C.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// What `npm start` runs (api/main.ts under tsx), as `node --import tsx`: npm/npx end themselves by the signal
// they relay, hiding the server's exit status, and the tsx CLI SIGKILLs a child that does not acknowledge a
// relayed signal within 30 ms, which a busy test machine can miss. The server's own handling is under test.
const TSX_LOADER = ['--import', 'tsx'];

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function launch(env: Record<string, string | undefined>): Started {
  const dataDir = mkdtempSync(join(tmpdir(), 'cbd-start-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  delete childEnv.DATABASE_URL;
  delete childEnv.EVENTSTORE_URL;
  delete childEnv.JWT_SECRET;
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const child = spawn(process.execPath, [...TSX_LOADER, 'api/main.ts'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { child, output: () => output, exited };
}

/** Resolves with the URL the server prints, or fails with everything it printed if it exits first. */
function printedUrl(started: Started, timeoutMs = 150_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within ${timeoutMs} ms; output:\n${started.output()}`)), timeoutMs);
    const check = () => {
      const match = /running at (http:\/\/\S+)/.exec(started.output());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    started.child.stdout!.on('data', check);
    void started.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing a URL; output:\n${started.output()}`));
    });
  });
}

async function freshDatabaseUrl(): Promise<string | undefined> {
  if (!process.env.DATABASE_URL) return undefined;
  const db: TestDatabase = await openTestDatabase({ kind: 'postgres' });
  // The server gets its own connections; ours only create and finally drop the database.
  cleanups.push(() => db.close());
  return db.url;
}

describe('npm start', () => {
  it('serves the demo city on the printed URL and exits 0 on SIGTERM', { timeout: 240_000 }, async () => {
    const started = launch({ PORT: '0', DEMO: 'true', DATABASE_URL: await freshDatabaseUrl() });
    const url = await printedUrl(started);
    expect(started.output()).toMatch(/store: (embedded PGlite|PostgreSQL)/);
    expect(started.output()).toContain('dispatcher.fire');
    expect(started.output()).toContain('password "demo"');

    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dispatcher.fire', password: 'demo' }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    // The server waits for the projector after seeding; a poll still guards against a projector settling early.
    const units = await eventually(async () => {
      const list = (await (await fetch(`${url}/api/units`, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown[];
      return list.length > 0 ? list : undefined;
    }, 'units on GET /api/units');
    expect(units.length).toBeGreaterThan(0);

    // The live feed is up too, and hears the shutdown as 1001 with where to resume.
    const live = await LiveClient.open(url, { token });
    await live.until((m) => m.length > 0, 'hello');
    expect((live.messages[0] as HelloMessage).position).toBeGreaterThan(0);

    started.child.kill('SIGTERM');
    expect(await started.exited, started.output()).toBe(0);
    const closed = await live.closed;
    expect(closed.code).toBe(1001);
    expect(closed.reason).toMatch(/since=\d+/);
  });

  it('refuses a bad configuration with a clear message and exit code 1', async () => {
    const started = launch({ PORT: 'eighty', DEMO: 'maybe' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/PORT must be a whole number/);
    expect(started.output()).toMatch(/DEMO must be true or false/);
  });

  it('says so when the port is taken, with exit code 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const { port } = blocker.address() as AddressInfo;
    const started = launch({ PORT: String(port), DEMO: 'true' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain(`Port ${port} on 127.0.0.1 is already in use`);
  });
});
