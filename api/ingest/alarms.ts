import type { Sql } from 'postgres';
import { nameBasedId } from '../../eventstore/eventIds.ts';
import { incidentTypeInfo, incidentView, type CommandMeta, type Priority } from '../../domain/index.ts';
import { DuplicateEventError, type EventStore } from '../../eventstore/port.ts';
import { incidents } from '../commands/aggregates.ts';
import { handleCommand, load } from '../commands/commandHandler.ts';
import { HttpProblem } from '../http/problem.ts';
import { findSensor, nextEpisode, SENSOR_KIND_NAMES, type Sensor } from './sensors.ts';

/** Fixed forever: incident and command ids of alarms are derived from it, so a retried alarm lands on the same ids. */
const ALARM_NAMESPACE = '0c7a3f4e-2b9d-4f61-8e35-6d1a9b7c5e20';

export const ALARM_LIMITS = { alarmId: 100, message: 500 } as const;

/** One alarm as a sensor (or its gateway) sends it, by webhook or MQTT. */
export interface Alarm {
  alarmId: string;
  sensorId: string;
  /** The sensor's own clock; recorded in the note, never used as the business time. */
  detectedAt?: string;
  /** A reading that explains the alarm (ppm of gas, water level in cm, …). */
  reading?: number;
  message?: string;
}

export type AlarmChannel = 'webhook' | 'mqtt';

export interface AlarmOutcome {
  alarmId: string;
  sensorId: string;
  incidentId: string;
  /** `opened`: this alarm opened the incident; `attached`: it joined the sensor's open incident. */
  outcome: 'opened' | 'attached';
  /** True when this alarm id had been received before: nothing new was written. */
  duplicate: boolean;
}

export interface IngestDeps {
  store: EventStore;
  sql: Sql;
}

export interface IngestContext {
  channel: AlarmChannel;
  /** The webhook source that signed the request; undefined on MQTT (the broker authenticates its clients). */
  source?: string;
  requestId?: string;
  clientAddress?: string;
}

const OPEN = new Set(['reported', 'triaged', 'dispatched', 'on_scene']);

/** The incident of a sensor's episode: every process and every retry agrees on it without asking anyone. */
export function episodeIncidentId(sensorId: string, episode: number): string {
  return nameBasedId(JSON.stringify(['incident', sensorId, episode]), ALARM_NAMESPACE);
}

const commandId = (...parts: unknown[]) => nameBasedId(JSON.stringify(parts), ALARM_NAMESPACE);

export const unknownSensor = (sensorId: string) =>
  new HttpProblem(422, 'unknown-sensor', 'Unknown sensor', `Sensor "${sensorId}" is not in the sensor registry, so its location and incident type are unknown; an administrator registers it with POST /api/sensors.`, {
    sensorId,
  });

function describe(sensor: Sensor, alarm: Alarm): string {
  const parts = [`${SENSOR_KIND_NAMES[sensor.kind]} ${sensor.id} raised alarm ${alarm.alarmId}`];
  if (alarm.reading !== undefined) parts.push(`reading ${alarm.reading}`);
  if (alarm.detectedAt !== undefined) parts.push(`sensor time ${alarm.detectedAt}`);
  return parts.join(', ') + (alarm.message ? `: ${alarm.message}` : '.');
}

/**
 * Alarms of one sensor are handled one after another in this process, so a storm queues up instead of
 * colliding on the incident stream; across processes the derived ids and the store's revisions keep it right.
 */
const queues = new Map<string, Promise<unknown>>();
function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => {});
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

/**
 * An alarm opens an incident for its sensor (source = sensor) or, while that sensor's incident is still open,
 * is attached to it as a note. Idempotent on the alarm id; a storm from one sensor opens one incident.
 */
export function ingestAlarm(deps: IngestDeps, alarm: Alarm, context: IngestContext): Promise<AlarmOutcome> {
  return serialised(alarm.sensorId, () => ingestOne(deps, alarm, context));
}

async function ingestOne({ store, sql }: IngestDeps, alarm: Alarm, context: IngestContext): Promise<AlarmOutcome> {
  const [seen] = await sql<{ incident_id: string; outcome: 'opened' | 'attached'; sensor_id: string }[]>`
    select incident_id, outcome, sensor_id from alarm_receipts where alarm_id = ${alarm.alarmId}`;
  if (seen) {
    if (seen.sensor_id !== alarm.sensorId) {
      throw new HttpProblem(409, 'alarm-id-reused', 'Conflict', `Alarm id "${alarm.alarmId}" was already used by sensor "${seen.sensor_id}"; every alarm needs its own id.`, {
        alarmId: alarm.alarmId,
      });
    }
    return { alarmId: alarm.alarmId, sensorId: alarm.sensorId, incidentId: seen.incident_id, outcome: seen.outcome, duplicate: true };
  }

  let sensor = await findSensor(sql, alarm.sensorId);
  if (!sensor) throw unknownSensor(alarm.sensorId);
  if (context.source !== undefined && sensor.source !== null && sensor.source !== context.source) {
    throw new HttpProblem(403, 'wrong-source', 'Forbidden', `Sensor "${sensor.id}" reports through source "${sensor.source}", not "${context.source}".`, { sensorId: sensor.id });
  }
  const info = incidentTypeInfo(sensor.incidentType);
  const meta = (id: string, incidentId: string): CommandMeta => ({
    commandId: id,
    actor: `sensor:${sensor!.id}`,
    // Sensors act for the centre as an automatic call-taker: a dispatcher of the first agency the incident needs.
    role: 'dispatcher',
    agency: info?.agencies[0] ?? 'police',
    occurredAt: new Date().toISOString(),
    correlationId: incidentId,
    reason: `alarm ${alarm.alarmId} via ${context.channel}${context.source ? ` (${context.source})` : ''}`,
    ...(context.requestId !== undefined && { requestId: context.requestId }),
    ...(context.clientAddress !== undefined && { clientAddress: context.clientAddress }),
  });

  let outcome: AlarmOutcome | undefined;
  for (let attempt = 0; attempt < 20 && outcome === undefined; attempt++) {
    const incidentId = episodeIncidentId(sensor.id, sensor.episode);
    const loaded = await load(store, incidents, incidentId);
    const status = incidentView(loaded.state)?.status;
    if (loaded.revision < 0n) {
      try {
        const result = await handleCommand(
          store,
          incidents,
          incidentId,
          {
            type: 'ReportIncident',
            data: {
              incidentId,
              type: sensor.incidentType,
              priority: (info?.defaultPriority ?? 3) as Priority,
              location: sensor.location,
              ...(sensor.address !== null && { address: sensor.address }),
              description: describe(sensor, alarm),
              source: 'sensor',
            },
          },
          meta(commandId('report', sensor.id, sensor.episode), incidentId),
        );
        // Another process reported this episode first: this alarm joins it instead.
        if (result.written) outcome = { alarmId: alarm.alarmId, sensorId: sensor.id, incidentId, outcome: 'opened', duplicate: false };
      } catch (error) {
        if (!(error instanceof DuplicateEventError)) throw error;
      }
    } else if (status !== undefined && OPEN.has(status)) {
      await handleCommand(store, incidents, incidentId, { type: 'AddNote', data: { text: describe(sensor, alarm) } }, meta(commandId('alarm', alarm.alarmId), incidentId));
      outcome = { alarmId: alarm.alarmId, sensorId: sensor.id, incidentId, outcome: 'attached', duplicate: false };
    } else {
      // The last incident is over (resolved, closed or cancelled): this alarm is a new episode.
      await nextEpisode(sql, sensor.id, sensor.episode);
      sensor = (await findSensor(sql, sensor.id)) ?? sensor;
    }
  }
  if (!outcome) throw new HttpProblem(503, 'ingest-contended', 'Service Unavailable', `Alarm ${alarm.alarmId} could not be placed on an incident; please send it again.`);

  await sql`
    insert into alarm_receipts (alarm_id, sensor_id, incident_id, outcome, channel, source)
    values (${alarm.alarmId}, ${alarm.sensorId}, ${outcome.incidentId}, ${outcome.outcome}, ${context.channel}, ${context.source ?? null})
    on conflict (alarm_id) do nothing`;
  return outcome;
}
