import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../api/config.ts';

const SECRET = 's'.repeat(40);
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cbd-config-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('defaults: the embedded store, demo mode, port 3000 on 127.0.0.1, 600 requests a minute', () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATA_DIR: dataDir });
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir,
      storeKind: 'embedded',
      demo: true,
      logLevel: 'info',
      rateLimitMax: 600,
      jwtExpiresIn: '12h',
      bodyLimit: 64 * 1024,
      trustProxy: false,
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.tileUrl).toBeUndefined();
  });

  it('in demo mode generates a JWT secret once and keeps it in DATA_DIR, so tokens survive a restart', () => {
    const dataDir = tempDir();
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    const file = join(dataDir, 'jwt-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('a given JWT_SECRET wins, and nothing is written', () => {
    const dataDir = tempDir();
    expect(loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET }).jwtSecret).toBe(SECRET);
    expect(() => statSync(join(dataDir, 'jwt-secret'))).toThrow();
  });

  it('with DATABASE_URL demo is off by default and JWT_SECRET is required', () => {
    const problems = problemsOf({ DATABASE_URL: 'postgres://db.example/citybrain' });
    expect(problems).toEqual(['JWT_SECRET is required outside demo mode (set DEMO=true to have one generated into DATA_DIR).']);
    const config = loadConfig({ DATABASE_URL: 'postgres://db.example/citybrain', JWT_SECRET: SECRET });
    expect(config).toMatchObject({ storeKind: 'postgres', demo: false, databaseUrl: 'postgres://db.example/citybrain' });
    expect(loadConfig({ DATABASE_URL: 'postgres://db.example/citybrain', JWT_SECRET: SECRET, DEMO: 'true' }).demo).toBe(true);
  });

  it('EVENTSTORE_URL selects EventStoreDB', () => {
    const config = loadConfig({ EVENTSTORE_URL: 'esdb://127.0.0.1:2113?tls=false', DATABASE_URL: 'postgres://db/x', JWT_SECRET: SECRET });
    expect(config.storeKind).toBe('eventstoredb');
  });

  it('reports every problem at once, each saying what is wrong and what is expected', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DEMO: 'maybe',
      LOG_LEVEL: 'loud',
      RATE_LIMIT_MAX: '0',
      DATABASE_URL: 'mysql://db/x',
      JWT_SECRET: 'short',
      TILE_URL: 'tiles.example.com',
    });
    expect(problems).toEqual([
      'PORT must be a whole number from 0 to 65535; got "eighty".',
      'DATABASE_URL must be a postgres or postgresql URL; got one starting with mysql://.',
      'DEMO must be true or false; got "maybe".',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "loud".',
      'RATE_LIMIT_MAX must be a whole number from 1 to 10000000; got "0".',
      'TILE_URL must be an http(s) URL template with {z}, {x} and {y}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; got "tiles.example.com".',
      'JWT_SECRET must be at least 32 characters long; it has 5.',
    ]);
    try {
      loadConfig({ PORT: '70000', DATA_DIR: tempDir() });
    } catch (error) {
      expect((error as Error).message).toBe('Invalid configuration:\n  - PORT must be a whole number from 0 to 65535; got "70000".');
    }
  });

  it('accepts the documented settings', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATA_DIR: tempDir(),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '1200',
      TILE_URL: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      DEMO: 'false',
      JWT_SECRET: SECRET,
      TRUST_PROXY: 'true',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      logLevel: 'warn',
      rateLimitMax: 1200,
      tileUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      demo: false,
      trustProxy: true,
    });
  });
});
