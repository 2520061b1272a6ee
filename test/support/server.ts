import type { FastifyInstance } from 'fastify';
import type { Sql } from 'postgres';
import { buildApp } from '../../api/app.ts';
import { createUser as createAccount, type NewUser, type User } from '../../api/auth/users.ts';
import type { AppConfig } from '../../api/config.ts';
import { AGENCIES, type Agency, type Role } from '../../domain/index.ts';
import { migrate } from '../../eventstore/migrate.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { PostgresEventStore } from '../../eventstore/postgres.ts';
import { startProjector, type Projector } from '../../projections/runner.ts';
import { openTestDatabase } from './db.ts';

export const TEST_PASSWORD = 'demo';

export interface TestServerOptions {
  /** Overrides of the configuration the server is built with. */
  config?: Partial<AppConfig>;
  /** Create the demo accounts (dispatcher.<agency>, supervisor.<agency>, auditor, admin; password "demo"). Default true. */
  demoUsers?: boolean;
  /** Run the projector in this process (default true); without it the read models stay empty. */
  projector?: boolean;
  /** pino level; default 'silent' (set TEST_LOG_LEVEL to see logs). */
  logLevel?: AppConfig['logLevel'];
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TestServer {
  baseUrl: string;
  app: FastifyInstance;
  sql: Sql;
  store: EventStore;
  /** Undefined when started with `projector: false`. */
  projector: Projector | undefined;
  kind: 'postgres' | 'pglite';
  config: AppConfig;
  /** A bearer token for the user (cached per username). */
  login(username: string, password?: string): Promise<string>;
  createUser(user: Omit<NewUser, 'password'> & { password?: string }): Promise<User>;
  /** fetch with JSON in and out; the body is parsed when the response is JSON, else text. */
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>>;
  /** Waits until the read models hold every event stored so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** The demo accounts: a dispatcher and a supervisor per agency, an auditor and an admin. */
export function demoAccounts(): Array<{ username: string; role: Role; agency: Agency }> {
  return [
    ...AGENCIES.flatMap((agency) => [
      { username: `dispatcher.${agency}`, role: 'dispatcher' as const, agency },
      { username: `supervisor.${agency}`, role: 'supervisor' as const, agency },
    ]),
    // Their agency only labels their events; their scope is the whole city.
    { username: 'auditor', role: 'auditor', agency: 'police' },
    { username: 'admin', role: 'admin', agency: 'police' },
  ];
}

/**
 * The real server on 127.0.0.1, a free port, over a fresh database (PGlite, or PostgreSQL when
 * DATABASE_URL is set), with migrations applied and the projector running. Rate limits are high so tests
 * are not throttled unless they ask to be.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const db = await openTestDatabase();
  const sql = db.sql as unknown as Sql;
  const kind = db.kind;
  let store: EventStore | undefined;
  let projector: Projector | undefined;
  let app: FastifyInstance | undefined;
  const close = async () => {
    await app?.close().catch(() => {});
    await projector?.stop().catch(() => {});
    await store?.close().catch(() => {});
    await db.close();
  };
  try {
    await migrate(sql);
    store = new PostgresEventStore(sql, kind === 'postgres' ? { name: 'postgres', listen: true, pollIntervalMs: 200 } : { name: 'embedded', listen: false, pollIntervalMs: 20 });
    if (options.projector !== false) {
      projector = startProjector({ store, sql, listen: kind === 'postgres', lockRetryMs: 200, heartbeatMs: 500, retryDelayMs: 100 });
      await projector.ready;
    }
    const config: AppConfig = {
      port: 0,
      host: '127.0.0.1',
      dataDir: './data',
      storeKind: kind === 'postgres' ? 'postgres' : 'embedded',
      demo: false,
      jwtSecret: 'test-secret-that-is-long-enough-for-hs256-0123456789',
      jwtExpiresIn: '12h',
      logLevel: options.logLevel ?? ((process.env.TEST_LOG_LEVEL as AppConfig['logLevel'] | undefined) ?? 'silent'),
      rateLimitMax: 1_000_000,
      loginRateLimitMax: 1_000_000,
      bodyLimit: 64 * 1024,
      trustProxy: false,
      ...options.config,
    };
    app = await buildApp({
      config,
      store,
      sql,
      storeKind: config.storeKind,
      listen: kind === 'postgres',
      ...(projector && { projector }),
      logger: { level: config.logLevel },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('the test server has no TCP address');
    const baseUrl = `http://127.0.0.1:${address.port}`;

    const createUser: TestServer['createUser'] = (user) => createAccount(sql, { ...user, password: user.password ?? TEST_PASSWORD });
    if (options.demoUsers !== false) {
      for (const account of demoAccounts()) await createUser(account);
    }

    const call: TestServer['call'] = async (method, path, callOptions = {}) => {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
      let body: string | undefined;
      if (callOptions.body !== undefined) {
        body = typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(baseUrl + path, { method, headers, ...(body !== undefined && { body }) });
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      return { status: response.status, headers: response.headers, body: /json/.test(type) && text !== '' ? JSON.parse(text) : text };
    };

    const tokens = new Map<string, string>();
    const login: TestServer['login'] = async (username, password = TEST_PASSWORD) => {
      const cached = tokens.get(`${username}\n${password}`);
      if (cached) return cached;
      const response = await call<{ token: string }>('POST', '/api/auth/login', { body: { username, password } });
      if (response.status !== 200) throw new Error(`login as ${username} failed: ${response.status} ${JSON.stringify(response.body)}`);
      tokens.set(`${username}\n${password}`, response.body.token);
      return response.body.token;
    };

    return {
      baseUrl,
      app,
      sql,
      store,
      projector,
      kind,
      config,
      login,
      createUser,
      call,
      settle: async () => {
        if (!projector) throw new Error('this test server runs without a projector');
        await projector.settle();
      },
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
