import mqtt, { type MqttClient } from 'mqtt';
import type { FastifyBaseLogger } from 'fastify';
import { createValidatorCompiler } from '../http/validator.ts';
import { describeValidationError, type SchemaError } from '../http/validationMessages.ts';
import type { Alarm, AlarmOutcome } from './alarms.ts';
import { AlarmBody } from './schemas.ts';

export interface MqttIngestOptions {
  url: string;
  /** Alarms arrive on `<prefix>/alarms/<sensorId>`. */
  prefix: string;
  ingest: (alarm: Alarm) => Promise<AlarmOutcome>;
  log: FastifyBaseLogger;
}

export interface MqttIngest {
  /** Resolves once subscribed (or rejects with why not, the client keeps retrying). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Alarms topic for a sensor; `+` for every sensor. */
export const alarmTopic = (prefix: string, sensorId: string) => `${prefix}/alarms/${sensorId}`;

/**
 * Subscribes to the broker and ingests every alarm message. A message that is not a valid alarm is logged and
 * dropped: there is no one to answer on a topic.
 */
export function startMqttIngest({ url, prefix, ingest, log }: MqttIngestOptions): MqttIngest {
  const validate = createValidatorCompiler()({ schema: AlarmBody, httpPart: 'body', method: 'POST', url: 'mqtt' }) as unknown as {
    (value: unknown): boolean;
    errors?: SchemaError[] | null;
  };
  const client: MqttClient = mqtt.connect(url, { reconnectPeriod: 2000, connectTimeout: 10_000, clean: true, clientId: `citybrain-ingest-${process.pid}-${Math.random().toString(16).slice(2, 10)}` });
  const filter = alarmTopic(prefix, '+');
  const topicStart = `${prefix}/alarms/`;

  const ready = new Promise<void>((resolve, reject) => {
    client.on('connect', () => {
      client.subscribe(filter, { qos: 1 }, (error) => {
        if (error) {
          log.error({ err: error, topic: filter }, 'cannot subscribe to the alarm topic');
          reject(error);
        } else {
          log.info({ topic: filter }, 'listening for MQTT alarms');
          resolve();
        }
      });
    });
    client.once('error', (error) => reject(error));
  });
  ready.catch(() => {});
  client.on('error', (error) => log.warn({ err: error }, 'MQTT broker connection problem; retrying'));

  client.on('message', (topic, payload) => {
    const sensorId = topic.startsWith(topicStart) ? topic.slice(topicStart.length) : '';
    let alarm: unknown;
    try {
      alarm = JSON.parse(payload.toString('utf8'));
    } catch {
      log.warn({ topic }, 'dropped an MQTT alarm that is not JSON');
      return;
    }
    if (alarm !== null && typeof alarm === 'object' && !Array.isArray(alarm) && (alarm as { sensorId?: unknown }).sensorId === undefined) {
      (alarm as { sensorId: string }).sensorId = sensorId;
    }
    if (!validate(alarm)) {
      log.warn({ topic, problem: describeValidationError(validate.errors ?? []).detail }, 'dropped an invalid MQTT alarm');
      return;
    }
    if ((alarm as Alarm).sensorId !== sensorId) {
      log.warn({ topic, sensorId: (alarm as Alarm).sensorId }, 'dropped an MQTT alarm whose sensorId differs from its topic');
      return;
    }
    ingest(alarm as Alarm).then(
      (outcome) => log.debug({ topic, ...outcome }, 'MQTT alarm ingested'),
      (error: unknown) => log.warn({ err: error, topic, alarmId: (alarm as Alarm).alarmId }, 'MQTT alarm refused'),
    );
  });

  return {
    ready,
    close: () => client.endAsync().then(() => undefined),
  };
}
