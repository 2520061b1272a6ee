// The real server as a separate process (`node --import tsx api/main.ts`), as `npm start` runs it: what the
// fault suite kills and restarts, and what the benchmarks load. Nothing here reaches into the server's insides.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/**
 * The node flags `npm start` runs the server with (package.json). A young generation of 64 MB: a command allocates
 * a lot that dies young (JSON, snapshots, promises), and with the default the server spent more time scavenging.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];
export const CHILD_JWT_SECRET = 'fault-and-bench-secret-that-is-long-enough-0123456789';

export interface ChildServerOptions {
  /** Another program to start the same way (it must print "is running at <url>"); default api/main.ts. */
  entry?: string;
  /** A PostgreSQL database for events and read models; without it the embedded PGlite in dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** Seed the demo city and demo users (password "demo"); default true. */
  demo?: boolean;
  port?: number;
  logLevel?: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof'] to profile the server (flags NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** How long to wait for the banner. */
  startTimeoutMs?: number;
}

export interface ChildServer {
  baseUrl: string;
  pid: number;
  process: ChildProcess;
  /** Everything the process wrote to stderr so far (start-up failures, warnings). */
  stderr(): string;
  /** Peak resident set size so far (VmHWM), in MiB; undefined once the process has gone. */
  peakRssMiB(): number | undefined;
  /** SIGKILL: no shutdown hook runs, exactly like a crash or the OOM killer. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the orderly shutdown. */
  stop(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    PORT: String(options.port ?? 0),
    HOST: '127.0.0.1',
    DEMO: String(options.demo ?? true),
    JWT_SECRET: CHILD_JWT_SECRET,
    LOG_LEVEL: options.logLevel ?? 'error',
    RATE_LIMIT_MAX: '10000000',
    LOGIN_RATE_LIMIT_MAX: '10000000',
    NODE_ENV: 'production',
    ...(options.databaseUrl !== undefined && { DATABASE_URL: options.databaseUrl }),
    ...(options.dataDir !== undefined && { DATA_DIR: options.dataDir }),
    ...options.env,
  };
  // node itself, not the tsx CLI (the CLI relays to a second process, and the pid must be the server's), with the
  // flags of `npm start` (package.json).
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...(options.nodeArgs ?? []), '--import', 'tsx', options.entry ?? join(REPO_ROOT, 'api', 'main.ts')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    err = (err + chunk).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  const baseUrl = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${options.startTimeoutMs ?? 120_000} ms:\n${err}`));
    }, options.startTimeoutMs ?? 120_000);
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const match = /is running at (http:\/\/[^\s]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (code ${code}, signal ${signal}) before it was ready:\n${err}`));
    });
  });
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  child.stdout!.on('data', () => {});

  let gone = false;
  void exited.then(() => (gone = true));
  return {
    baseUrl,
    pid: child.pid!,
    process: child,
    exited,
    stderr: () => err,
    peakRssMiB: () => {
      if (gone) return undefined;
      try {
        const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
      } catch {
        return undefined;
      }
    },
    kill: async () => {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (!gone) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// Kept-alive connections, as a browser or a dispatch console keeps them; node:http costs the load generator about
// half of what fetch does per request, and on two shared cores the generator's CPU is the server's loss.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** JSON over HTTP against a child server; network failures come back as status 0 with the error. */
export async function callChild(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal; raw?: boolean } = {},
): Promise<{ status: number; headers: Headers; body: any; error?: unknown }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: Buffer | undefined;
  if (options.body !== undefined) {
    body = Buffer.from(JSON.stringify(options.body));
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve) => {
    const failed = (error: unknown) => resolve({ status: 0, headers: new Headers(), body: undefined, error });
    const request = httpRequest(new URL(path, baseUrl), { method, headers, agent, ...(options.signal && { signal: options.signal }) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', failed);
      response.on('end', () => {
        // raw: the bytes as they arrived (a benchmark timing the server, not the client's JSON parser).
        if (options.raw) return resolve({ status: response.statusCode ?? 0, headers: new Headers(), body: Buffer.concat(chunks) });
        const text = Buffer.concat(chunks).toString('utf8');
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const type = responseHeaders.get('content-type') ?? '';
        try {
          resolve({ status: response.statusCode ?? 0, headers: responseHeaders, body: /json/.test(type) && text !== '' ? JSON.parse(text) : text });
        } catch (error) {
          failed(error);
        }
      });
    });
    request.on('error', failed);
    request.end(body);
  });
}

export async function loginChild(baseUrl: string, username: string, password = 'demo'): Promise<string> {
  const response = await callChild(baseUrl, 'POST', '/api/auth/login', { body: { username, password } });
  if (response.status !== 200) throw new Error(`login as ${username} failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.token as string;
}
