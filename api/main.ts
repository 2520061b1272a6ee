// npm start: configuration → event store (embedded PGlite by default) → projector → demo city → HTTP server.
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { connectStore, type ConnectedStore } from '../eventstore/connect.ts';
import { startProjector, type Projector } from '../projections/runner.ts';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type AppConfig } from './config.ts';
import { DEMO_PASSWORD, DEMO_USERS, seedDemoCity } from './seed/demoCity.ts';
import { simulate } from './simulation/run.ts';

/** A start-up failure already explained in words; main prints it and exits 1. */
class StartupError extends Error {
  override readonly name = 'StartupError';
}

const SHUTDOWN_GRACE_MS = 15_000;
// A first start seeds ~120 events; waiting for them means the first page load shows the whole city.
const SEED_SETTLE_MS = 60_000;

function fail(message: string): never {
  throw new StartupError(message);
}

function describeStore(config: AppConfig): string {
  if (config.storeKind === 'eventstoredb') return `EventStoreDB (${redact(config.eventstoreUrl)}), read models in ${config.databaseUrl ? `PostgreSQL (${redact(config.databaseUrl)})` : `embedded PGlite in ${config.dataDir}`}`;
  if (config.storeKind === 'postgres') return `PostgreSQL (${redact(config.databaseUrl)})`;
  return `embedded PGlite in ${config.dataDir}`;
}

/** Connection strings may hold passwords; the banner and errors show where, never the secret. */
function redact(url: string | undefined): string {
  if (!url) return '';
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function causeText(error: unknown): string {
  const e = error as { code?: string; message?: string; errors?: unknown[] };
  if (e?.code === 'ECONNREFUSED' || (Array.isArray(e?.errors) && e.errors.some((x) => (x as { code?: string }).code === 'ECONNREFUSED'))) {
    return 'connection refused (is the server running, and is the address right?)';
  }
  return e?.message || String(error);
}

/** Fails fast, before minutes of store start-up, when the port is taken; listen() still reports a later race. */
async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE') return new StartupError(`Port ${port} on ${host} is already in use. Stop whatever is using it, or set PORT to a free port.`);
  if (error.code === 'EACCES') return new StartupError(`Not allowed to listen on ${host}:${port}. Ports below 1024 need privileges; set PORT to 1024 or above.`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return new StartupError(`HOST ${host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its addresses.`);
  return error;
}

function publicUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

function banner(config: AppConfig, url: string, seeded: string | undefined): string {
  const lines = [
    '',
    `  CityBrain Dispatch · 城市大脑 指挥调度 is running at ${url}`,
    `  store: ${describeStore(config)}`,
    `  API docs: ${url}/docs`,
  ];
  if (config.demo) {
    lines.push(`  demo city: Ji'an 吉安${seeded ? ` (${seeded})` : ''}`);
    lines.push(`  demo logins (password "${DEMO_PASSWORD}"):`);
    const width = Math.max(...DEMO_USERS.map((u) => u.username.length));
    for (const user of DEMO_USERS) lines.push(`    ${user.username.padEnd(width)}  ${user.role.padEnd(10)} ${user.agency}`);
  }
  lines.push('  Press Ctrl+C to stop.', '');
  return lines.join('\n');
}

interface Running {
  app?: FastifyInstance;
  projector?: Projector;
  connected?: ConnectedStore;
  /** SIMULATE=true: the city simulator driving this server (issue 7). */
  simulation?: AbortController;
}

/** Stops in the order that loses nothing: no new requests, sockets closed, projector stopped, store closed. */
async function stop(running: Running): Promise<void> {
  running.simulation?.abort();
  await running.app?.close();
  await running.projector?.stop();
  await running.connected?.close();
}

async function start(running: Running): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const log = pino({ level: config.logLevel });

  await ensurePortFree(config.host, config.port);

  try {
    running.connected = await connectStore({
      ...(config.databaseUrl !== undefined && { databaseUrl: config.databaseUrl }),
      ...(config.eventstoreUrl !== undefined && { eventstoreUrl: config.eventstoreUrl }),
      dataDir: config.dataDir,
    });
  } catch (error) {
    fail(`Cannot open the store, ${describeStore(config)}: ${causeText(error)}`);
  }
  const { store, sql, kind } = running.connected;

  running.projector = startProjector({ store, sql, listen: kind === 'postgres', log: log.child({ component: 'projector' }) });
  try {
    await running.projector.ready;
  } catch (error) {
    fail(`The projector could not start: ${causeText(error)}`);
  }

  let seeded: string | undefined;
  if (config.demo) {
    const result = await seedDemoCity({ store, sql });
    seeded = result.skipped
      ? 'already there'
      : `seeded ${result.unitsRegistered} units, ${result.incidentsReported} incidents, ${result.usersCreated} users`;
    if (!result.skipped) {
      await running.projector.settle(SEED_SETTLE_MS).catch((error: unknown) => log.warn({ err: error }, 'the demo city is still being projected'));
    }
  }

  // Status timers (issue 6) look for overdue incidents and units every 5 s of wall-clock time.
  running.app = await buildApp({ config, store, sql, projector: running.projector, storeKind: kind, statusTimerIntervalMs: 5000 });
  try {
    await running.app.listen({ host: config.host, port: config.port });
  } catch (error) {
    throw listenError(error as NodeJS.ErrnoException, config.host, config.port);
  }
  const address = running.app.server.address();
  const port = address !== null && typeof address === 'object' ? address.port : config.port;
  process.stdout.write(`${banner(config, publicUrl(config.host, port), seeded)}\n`);
  if (config.simulate) {
    // The map comes alive: the simulator talks to this server over HTTP like any client, an hour a minute.
    const simulation = new AbortController();
    running.simulation = simulation;
    const self = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    log.info({ url: self }, 'SIMULATE=true: the city simulator is running');
    simulate({ url: self, password: DEMO_PASSWORD, rate: 60, tickMs: 1000, signal: simulation.signal }).then(
      (summary) => log.info({ commands: summary.commands, unexpectedErrors: summary.unexpectedErrors.length }, 'the city simulator stopped'),
      (error: unknown) => log.error({ err: error }, 'the city simulator failed'),
    );
  }
}

async function main(): Promise<void> {
  const running: Running = {};
  let stopping = false;

  let firstSignalAt = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // npx, npm and tsx each relay a signal, and Ctrl+C reaches the whole process group: copies arriving
      // together are one request. A second Ctrl+C a moment later means "stop waiting".
      if (Date.now() - firstSignalAt < 1000) return;
      process.stderr.write(`\n${signal} again: exiting without waiting.\n`);
      process.exit(1);
    }
    stopping = true;
    firstSignalAt = Date.now();
    process.stderr.write(`\n${signal}: shutting down…\n`);
    // A stuck close (a client that never acknowledges, a hung query) must not keep the process alive forever.
    setTimeout(() => {
      process.stderr.write(`Shutdown took longer than ${SHUTDOWN_GRACE_MS / 1000} s; exiting.\n`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    stop(running).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Shutdown failed: ${causeText(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    await start(running);
  } catch (error) {
    if (stopping) return;
    stopping = true;
    process.stderr.write(
      error instanceof StartupError ? `\nCityBrain Dispatch could not start.\n${error.message}\n` : `\nCityBrain Dispatch could not start:\n${(error as Error)?.stack ?? String(error)}\n`,
    );
    await stop(running).catch(() => {});
    process.exit(1);
  }
}

await main();
