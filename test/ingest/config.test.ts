import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../api/config.ts';

const BASE = { JWT_SECRET: 'a-secret-that-is-long-enough-for-the-check-0123456789', DEMO: 'false' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BASE, ...env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('ingestion and simulation settings', () => {
  it('reads MQTT_URL, MQTT_TOPIC_PREFIX, MQTT_CLIENT_ID and INGEST_SOURCES', () => {
    const key = 'k'.repeat(40);
    const config = loadConfig({ ...BASE, MQTT_URL: 'mqtt://127.0.0.1:1883', MQTT_TOPIC_PREFIX: 'jian/city-brain', MQTT_CLIENT_ID: 'jian-ingest-1', INGEST_SOURCES: `smoke-net=${key}, city.gas=${key}x` });
    expect(config.mqttUrl).toBe('mqtt://127.0.0.1:1883');
    expect(config.mqttTopicPrefix).toBe('jian/city-brain');
    expect(config.mqttClientId).toBe('jian-ingest-1');
    expect(loadConfig(BASE).mqttClientId).toBeUndefined();
    expect(config.ingestSources).toEqual({ 'smoke-net': key, 'city.gas': `${key}x` });
    expect(config.ingestMaxSkewSeconds).toBe(300);
    expect(config.simulate).toBe(false);
  });

  it('refuses bad values with a sentence for each', () => {
    const found = problems({ MQTT_URL: 'http://broker:1883', MQTT_TOPIC_PREFIX: 'city/#', MQTT_CLIENT_ID: 'two words', INGEST_SOURCES: 'Smoke Net=abc,gas=short,gas2', SIMULATE: 'true', INGEST_MAX_SKEW_SECONDS: '1' });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^MQTT_URL must be a mqtt or mqtts or tcp or ws or wss URL/),
        expect.stringMatching(/^MQTT_TOPIC_PREFIX must be topic levels/),
        expect.stringMatching(/^MQTT_CLIENT_ID must be 1 to 128 visible ASCII characters without spaces; got "two words"/),
        expect.stringMatching(/source id "Smoke Net" must be lower-case/),
        expect.stringMatching(/the key of source "gas" must be at least 32 characters long; it has 5/),
        expect.stringMatching(/the key of source "gas2" must be at least 32/),
        expect.stringMatching(/^SIMULATE=true needs demo mode/),
        expect.stringMatching(/^INGEST_MAX_SKEW_SECONDS must be a whole number from 5 to 3600/),
      ]),
    );
    expect(problems({ INGEST_SOURCES: `a=${'k'.repeat(32)},a=${'k'.repeat(33)}` })).toEqual(['INGEST_SOURCES: source "a" is listed twice.']);
  });
});
