import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type StoreKind = 'embedded' | 'postgres' | 'eventstoredb';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  eventstoreUrl?: string;
  /** Where events live; read models are on `databaseUrl`, or embedded when it is absent. */
  storeKind: StoreKind;
  demo: boolean;
  jwtSecret: string;
  /** Tokens last one shift, so a dispatcher logs in once per shift. */
  jwtExpiresIn: string;
  logLevel: LogLevel;
  /** Requests per minute per client address. */
  rateLimitMax: number;
  /** Login attempts per minute per client address: password guessing is what this limit is for. */
  loginRateLimitMax: number;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Behind a load balancer: take the client address from X-Forwarded-For. */
  trustProxy: boolean;
  tileUrl?: string;
  /** Signs audit checkpoints and export bundles; derived from jwtSecret when absent (api/audit/secret.ts). */
  auditSecret?: string;
  /** How often a signed checkpoint is taken over the global log, in seconds; 0 = only on request. */
  auditCheckpointSeconds?: number;
  /** MQTT broker to take sensor alarms from (issue 7); absent: no MQTT ingestion. */
  mqttUrl?: string;
  /** Alarms arrive on `<prefix>/alarms/<sensorId>`; default "citybrain". */
  mqttTopicPrefix?: string;
  /** The id under which the broker keeps the ingest's session (MQTT_CLIENT_ID); absent: derived from the prefix. */
  mqttClientId?: string;
  /** Webhook sources and their HMAC keys (INGEST_SOURCES="id=key,…"); absent: the webhook refuses everything. */
  ingestSources?: Record<string, string>;
  /** How far a webhook request's signed timestamp may be from the server clock, in seconds. */
  ingestMaxSkewSeconds?: number;
  /** Drive the running server with the city simulator (demo mode only). */
  simulate?: boolean;
}

/** Start-up refused: lists every problem at once, so one restart fixes them all. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const MIN_SECRET_LENGTH = 32;
const SECRET_FILE = 'jwt-secret';

type Env = Record<string, string | undefined>;

/**
 * Reads and checks the environment. In demo mode without JWT_SECRET a secret is generated once and kept in
 * DATA_DIR, so a restart does not log every demo user out.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}.`);
      return fallback;
    }
    return Number(raw);
  };

  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must be a ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')} URL; got one starting with ${parsed.protocol}//.`);
      }
    } catch {
      problems.push(`${name} is not a valid URL${protocols.length ? ` (expected ${protocols[0]}//…)` : ''}.`);
    }
    return raw;
  };

  const port = integer('PORT', 3000, 0, 65535);
  const host = text('HOST') ?? '127.0.0.1';
  const dataDir = resolve(text('DATA_DIR') ?? './data');
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const eventstoreUrl = url('EVENTSTORE_URL', ['esdb:', 'esdb+discover:', 'kurrentdb:', 'kurrentdb+discover:', 'kdb:', 'kdb+discover:']);
  const storeKind: StoreKind = eventstoreUrl ? 'eventstoredb' : databaseUrl ? 'postgres' : 'embedded';

  const flag = (name: string, fallback: boolean): boolean => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const normal = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(normal)) return true;
    if (['false', '0', 'no', 'off'].includes(normal)) return false;
    problems.push(`${name} must be true or false; got ${JSON.stringify(raw)}.`);
    return fallback;
  };

  const demo = flag('DEMO', storeKind === 'embedded');
  const trustProxy = flag('TRUST_PROXY', false);

  const logLevelRaw = text('LOG_LEVEL') ?? 'info';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(logLevelRaw) ? (logLevelRaw as LogLevel) : 'info';
  if (logLevel !== logLevelRaw) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(logLevelRaw)}.`);

  const rateLimitMax = integer('RATE_LIMIT_MAX', 600, 1, 10_000_000);
  const loginRateLimitMax = integer('LOGIN_RATE_LIMIT_MAX', 10, 1, 10_000_000);
  const bodyLimit = integer('BODY_LIMIT', 64 * 1024, 1024, 16 * 1024 * 1024);

  const tileUrl = text('TILE_URL');
  if (tileUrl !== undefined && !/^https?:\/\/.+\{z\}.*\{x\}.*\{y\}/.test(tileUrl)) {
    problems.push(`TILE_URL must be an http(s) URL template with {z}, {x} and {y}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; got ${JSON.stringify(tileUrl)}.`);
  }

  const mqttUrl = url('MQTT_URL', ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:']);
  const mqttTopicPrefix = text('MQTT_TOPIC_PREFIX') ?? 'citybrain';
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(mqttTopicPrefix)) {
    problems.push(`MQTT_TOPIC_PREFIX must be topic levels of letters, digits, "_", "-" or "." separated by "/", without wildcards or a trailing "/"; got ${JSON.stringify(mqttTopicPrefix)}.`);
  }
  const mqttClientId = text('MQTT_CLIENT_ID');
  if (mqttClientId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(mqttClientId)) {
    problems.push(`MQTT_CLIENT_ID must be 1 to 128 visible ASCII characters without spaces; got ${JSON.stringify(mqttClientId)}.`);
  }
  const ingestSources = parseIngestSources(text('INGEST_SOURCES'), problems);
  const ingestMaxSkewSeconds = integer('INGEST_MAX_SKEW_SECONDS', 300, 5, 3600);
  const simulate = flag('SIMULATE', false);
  if (simulate && !demo) problems.push('SIMULATE=true needs demo mode (DEMO=true): the simulator logs in as the demo users.');

  const auditSecret = text('AUDIT_SECRET');
  if (auditSecret !== undefined && auditSecret.length < MIN_SECRET_LENGTH) {
    problems.push(`AUDIT_SECRET must be at least ${MIN_SECRET_LENGTH} characters long; it has ${auditSecret.length}.`);
  }
  const auditCheckpointSeconds = integer('AUDIT_CHECKPOINT_SECONDS', 60, 0, 86_400);

  let jwtSecret = text('JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < MIN_SECRET_LENGTH) {
    problems.push(`JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters long; it has ${jwtSecret.length}.`);
  }
  if (jwtSecret === undefined && !demo) {
    problems.push('JWT_SECRET is required outside demo mode (set DEMO=true to have one generated into DATA_DIR).');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  if (jwtSecret === undefined) {
    try {
      jwtSecret = demoSecret(dataDir);
    } catch (error) {
      throw new ConfigError([`Cannot keep the generated JWT secret in ${join(dataDir, SECRET_FILE)}: ${(error as Error).message}. Set JWT_SECRET or a writable DATA_DIR.`]);
    }
  }

  return {
    port,
    host,
    dataDir,
    ...(databaseUrl !== undefined && { databaseUrl }),
    ...(eventstoreUrl !== undefined && { eventstoreUrl }),
    storeKind,
    demo,
    jwtSecret,
    jwtExpiresIn: '12h',
    logLevel,
    rateLimitMax,
    loginRateLimitMax,
    bodyLimit,
    trustProxy,
    ...(tileUrl !== undefined && { tileUrl }),
    ...(auditSecret !== undefined && { auditSecret }),
    auditCheckpointSeconds,
    ...(mqttUrl !== undefined && { mqttUrl }),
    mqttTopicPrefix,
    ...(mqttClientId !== undefined && { mqttClientId }),
    ...(ingestSources !== undefined && { ingestSources }),
    ingestMaxSkewSeconds,
    simulate,
  };
}

const INGEST_SOURCE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MIN_INGEST_KEY_LENGTH = 32;

/** INGEST_SOURCES="smoke-net=<key>,city-gas=<key>": each webhook source and the HMAC key it signs with. */
function parseIngestSources(raw: string | undefined, problems: string[]): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const sources: Record<string, string> = {};
  for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const at = entry.indexOf('=');
    const id = at < 0 ? entry : entry.slice(0, at).trim();
    const key = at < 0 ? '' : entry.slice(at + 1).trim();
    if (!INGEST_SOURCE_ID.test(id)) {
      problems.push(`INGEST_SOURCES: source id ${JSON.stringify(id)} must be lower-case letters, digits, ".", "_" or "-" (up to 64), as in INGEST_SOURCES="smoke-net=<key>".`);
    } else if (key.length < MIN_INGEST_KEY_LENGTH) {
      problems.push(`INGEST_SOURCES: the key of source "${id}" must be at least ${MIN_INGEST_KEY_LENGTH} characters long; it has ${key.length}.`);
    } else if (Object.hasOwn(sources, id)) {
      problems.push(`INGEST_SOURCES: source "${id}" is listed twice.`);
    } else {
      sources[id] = key;
    }
  }
  return sources;
}

function demoSecret(dataDir: string): string {
  const file = join(dataDir, SECRET_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= MIN_SECRET_LENGTH) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
