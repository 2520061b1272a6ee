import { createHash } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { FastifyBaseLogger } from 'fastify';
import { createValidatorCompiler } from '../http/validator.ts';
import { describeValidationError, type SchemaError } from '../http/validationMessages.ts';
import type { Alarm } from './alarms.ts';
import { Pauses, untilSettled } from './retry.ts';
import { AlarmBody } from './schemas.ts';

export interface MqttIngestOptions {
  url: string;
  /** Alarms arrive on `<prefix>/alarms/<sensorId>`. */
  prefix: string;
  /**
   * The broker keeps this client's session (its subscription and the alarms not yet acknowledged) while it is away,
   * by this id. Default: one derived from the prefix, the same on every start.
   */
  clientId?: string;
  /**
   * Takes an alarm off the broker's hands: resolves once the alarm is safe (in the inbox, see `inbox.ts`), and only
   * then is it acknowledged. Refused for good: acknowledged, and dropped.
   */
  accept: (topic: string, alarm: Alarm) => Promise<unknown>;
  log: FastifyBaseLogger;
  /** The first pause before an alarm is tried again (default 500 ms); each next pause doubles, up to 30 s. */
  retryFirstMs?: number;
}

export interface MqttIngest {
  /** Resolves once subscribed (or rejects with why not, the client keeps retrying). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Alarms topic for a sensor; `+` for every sensor. */
export const alarmTopic = (prefix: string, sensorId: string) => `${prefix}/alarms/${sensorId}`;

/** The session's id when none is configured: stable for a topic prefix, short enough for any broker. */
export const defaultClientId = (prefix: string) => `citybrain-ingest-${createHash('sha256').update(prefix).digest('hex').slice(0, 12)}`;

/**
 * Subscribes to the broker and takes every alarm message, at least once: the broker keeps a persistent session for
 * this client (clean: false, a stable client id, QoS 1), and a message is acknowledged only once `accept` has made
 * its alarm safe (the server puts it in the alarm inbox, which survives a crash) or refused it for good. So an alarm
 * published while the server is down, or received and not yet accepted when it stopped, is delivered again when it
 * is back; ingestion is idempotent by alarm id, so a repeat changes nothing. An alarm that cannot be accepted for now
 * (the database is away) is retried with growing pauses, and the alarms behind it wait at the broker, in order; one
 * that keeps failing in an unforeseen way is given up after a few tries. A message that is not a valid alarm is
 * logged and dropped: there is no one to answer on a topic.
 */
export function startMqttIngest({ url, prefix, clientId, accept, log, retryFirstMs }: MqttIngestOptions): MqttIngest {
  const validate = createValidatorCompiler()({ schema: AlarmBody, httpPart: 'body', method: 'POST', url: 'mqtt' }) as unknown as {
    (value: unknown): boolean;
    errors?: SchemaError[] | null;
  };
  const client: MqttClient = mqtt.connect(url, { reconnectPeriod: 2000, connectTimeout: 10_000, clean: false, clientId: clientId ?? defaultClientId(prefix) });
  const filter = alarmTopic(prefix, '+');
  const topicStart = `${prefix}/alarms/`;
  const pauses = new Pauses();

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

  /** The alarm in a message, or why it is dropped. */
  const read = (topic: string, payload: Buffer): Alarm | undefined => {
    const sensorId = topic.startsWith(topicStart) ? topic.slice(topicStart.length) : '';
    let alarm: unknown;
    try {
      alarm = JSON.parse(payload.toString('utf8'));
    } catch {
      log.warn({ topic }, 'dropped an MQTT alarm that is not JSON');
      return undefined;
    }
    if (alarm !== null && typeof alarm === 'object' && !Array.isArray(alarm) && (alarm as { sensorId?: unknown }).sensorId === undefined) {
      (alarm as { sensorId: string }).sensorId = sensorId;
    }
    if (!validate(alarm)) {
      log.warn({ topic, problem: describeValidationError(validate.errors ?? []).detail }, 'dropped an invalid MQTT alarm');
      return undefined;
    }
    if ((alarm as Alarm).sensorId !== sensorId) {
      log.warn({ topic, sensorId: (alarm as Alarm).sensorId }, 'dropped an MQTT alarm whose sensorId differs from its topic');
      return undefined;
    }
    return alarm as Alarm;
  };

  // mqtt.js acknowledges a QoS 1 message when this calls back, and hands over the next one after that. Once closing,
  // nothing more is acknowledged: the broker delivers it again next time, and it is still stored once.
  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    const alarm = read(packet.topic, Buffer.from(packet.payload));
    if (!alarm) return callback();
    const topic = packet.topic;
    untilSettled(() => accept(topic, alarm), { pauses, log, ...(retryFirstMs !== undefined && { retryFirstMs }), about: { topic, alarmId: alarm.alarmId }, what: 'MQTT alarm', dropped: alarm }).then(
      (result) => {
        if (result.settled !== 'closed' && !pauses.closing) callback();
      },
      callback,
    );
  };

  return {
    ready,
    close: async () => {
      pauses.close();
      // Forced: a graceful end waits for every packet sent to be answered, and the broker's answer to the subscription
      // made on connecting can sit behind an alarm still being stored (packets are taken in order), which would wait
      // for ever. Nothing is lost: an alarm not acknowledged is delivered again next time.
      await client.endAsync(true);
    },
  };
}
