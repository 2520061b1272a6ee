import { createHash } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { FastifyBaseLogger } from 'fastify';
import { createValidatorCompiler } from '../http/validator.ts';
import { describeValidationError, type SchemaError } from '../http/validationMessages.ts';
import { problemFor } from '../http/errors.ts';
import type { Alarm, AlarmOutcome } from './alarms.ts';
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
  ingest: (alarm: Alarm) => Promise<AlarmOutcome>;
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

const RETRY_FIRST_MS = 500;
const RETRY_MOST_MS = 30_000;
/** Tries of an alarm that fails in a way nobody foresaw (a 500) before it is given up, so it cannot stall the rest. */
const UNEXPECTED_TRIES = 5;

/**
 * What a failed ingest means, read the way the HTTP API answers it: the database away or a contended write may pass
 * later ('again'); a refusal of the alarm itself (an unknown sensor, an alarm id reused) will not ('refused'); anything
 * else is a fault ('fault').
 */
function failureKind(error: unknown): 'again' | 'refused' | 'fault' {
  const { status, type } = problemFor(error).body;
  if (status === 503 || type.endsWith('/contended')) return 'again';
  return status < 500 ? 'refused' : 'fault';
}

/**
 * Subscribes to the broker and ingests every alarm message, at least once: the broker keeps a persistent session for
 * this client (clean: false, a stable client id, QoS 1), and a message is acknowledged only once its alarm is in the
 * log or refused for good. So an alarm published while the server is down, or received and not yet stored when it
 * stopped, is delivered again when it is back; ingestion is idempotent by alarm id, so a repeat changes nothing. An
 * alarm that cannot be stored for now (the database is away) is retried with growing pauses, and the alarms behind
 * it wait at the broker, in order; one that keeps failing in an unforeseen way is given up after a few tries. A
 * message that is not a valid alarm is logged and dropped: there is no one to answer on a topic.
 */
export function startMqttIngest({ url, prefix, clientId, ingest, log, retryFirstMs = RETRY_FIRST_MS }: MqttIngestOptions): MqttIngest {
  const validate = createValidatorCompiler()({ schema: AlarmBody, httpPart: 'body', method: 'POST', url: 'mqtt' }) as unknown as {
    (value: unknown): boolean;
    errors?: SchemaError[] | null;
  };
  const client: MqttClient = mqtt.connect(url, { reconnectPeriod: 2000, connectTimeout: 10_000, clean: false, clientId: clientId ?? defaultClientId(prefix) });
  const filter = alarmTopic(prefix, '+');
  const topicStart = `${prefix}/alarms/`;
  let closing = false;
  let wakeRetry: (() => void) | undefined;

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

  /**
   * Stores the alarm, retrying what may pass later: while the database is away, for as long as it takes. True once it
   * is done with (stored, refused, or given up after repeated faults, logged as an error with the alarm); false when
   * the client closed first (the alarm stays unacknowledged).
   */
  const store = async (topic: string, alarm: Alarm): Promise<boolean> => {
    let faults = 0;
    for (let pause = retryFirstMs; !closing; pause = Math.min(pause * 2, RETRY_MOST_MS)) {
      try {
        const outcome = await ingest(alarm);
        log.debug({ topic, ...outcome }, 'MQTT alarm ingested');
        return true;
      } catch (error) {
        const kind = failureKind(error);
        if (kind === 'refused') {
          log.warn({ err: error, topic, alarmId: alarm.alarmId }, 'MQTT alarm refused');
          return true;
        }
        if (kind === 'fault' && ++faults >= UNEXPECTED_TRIES) {
          log.error({ err: error, topic, alarm }, `MQTT alarm given up after ${faults} failed tries; the alarms behind it go on`);
          return true;
        }
        log.warn({ err: error, topic, alarmId: alarm.alarmId, retryInMs: pause }, 'MQTT alarm not stored yet; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
    return false;
  };

  // mqtt.js acknowledges a QoS 1 message when this calls back, and hands over the next one after that. Once closing,
  // nothing more is acknowledged: the broker delivers it again next time, and storing it again changes nothing.
  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    const alarm = read(packet.topic, Buffer.from(packet.payload));
    if (!alarm) return callback();
    store(packet.topic, alarm).then((stored) => {
      if (stored && !closing) callback();
    }, callback);
  };

  return {
    ready,
    close: async () => {
      closing = true;
      wakeRetry?.();
      // Forced: a graceful end waits for every packet sent to be answered, and the broker's answer to the subscription
      // made on connecting can sit behind an alarm still being stored (packets are taken in order), which would wait
      // for ever. Nothing is lost: an alarm not acknowledged is delivered again next time.
      await client.endAsync(true);
    },
  };
}
