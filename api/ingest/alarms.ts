import type { Sql } from 'postgres';
import { nameBasedId } from '../../eventstore/eventIds.ts';
import { incidentTypeInfo, incidentView, type CommandMeta, type Priority } from '../../domain/index.ts';
import { DuplicateEventError, type EventStore } from '../../eventstore/port.ts';
import { incidents } from '../commands/aggregates.ts';
import { handleCommand, handleCommandsTogether, load } from '../commands/commandHandler.ts';
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
export async function ingestAlarm(deps: IngestDeps, alarm: Alarm, context: IngestContext): Promise<AlarmOutcome> {
  const [result] = await ingestAlarms(deps, [alarm], context);
  if (result instanceof Error) throw result;
  return result!;
}

/**
 * Alarms of one sensor, in the order they came, as `ingestAlarm` takes each, with one write for all the notes they
 * attach: a storm costs a few statements per batch instead of per alarm. Each alarm's answer is in its place: its
 * outcome, or the refusal of that alarm alone (an alarm id another sensor used). What fails the whole batch (the
 * database away, a contended incident, an unknown sensor) is thrown, and nothing of it is recorded as received.
 */
export function ingestAlarms(deps: IngestDeps, alarms: Alarm[], context: IngestContext): Promise<Array<AlarmOutcome | HttpProblem>> {
  const sensorId = alarms[0]?.sensorId;
  if (sensorId === undefined) return Promise.resolve([]);
  if (alarms.some((a) => a.sensorId !== sensorId)) return Promise.reject(new Error('ingestAlarms takes the alarms of one sensor'));
  return serialised(sensorId, () => ingestBatch(deps, sensorId, alarms, context));
}

async function ingestBatch({ store, sql }: IngestDeps, sensorId: string, alarms: Alarm[], context: IngestContext): Promise<Array<AlarmOutcome | HttpProblem>> {
  const answers: Array<AlarmOutcome | HttpProblem | undefined> = alarms.map(() => undefined);
  const seen = new Map(
    (
      await sql<{ alarm_id: string; incident_id: string; outcome: 'opened' | 'attached'; sensor_id: string }[]>`
        select alarm_id, incident_id, outcome, sensor_id from alarm_receipts where alarm_id = any(${alarms.map((a) => a.alarmId)})`
    ).map((row) => [row.alarm_id, row]),
  );
  /** Alarms to place, by index; an alarm id repeated within the batch is answered as the first one is. */
  const fresh: number[] = [];
  const firstOf = new Map<string, number>();
  alarms.forEach((alarm, i) => {
    const before = seen.get(alarm.alarmId);
    if (before) {
      answers[i] =
        before.sensor_id !== sensorId
          ? new HttpProblem(409, 'alarm-id-reused', 'Conflict', `Alarm id "${alarm.alarmId}" was already used by sensor "${before.sensor_id}"; every alarm needs its own id.`, {
              alarmId: alarm.alarmId,
            })
          : { alarmId: alarm.alarmId, sensorId, incidentId: before.incident_id, outcome: before.outcome, duplicate: true };
    } else if (!firstOf.has(alarm.alarmId)) {
      firstOf.set(alarm.alarmId, i);
      fresh.push(i);
    }
  });

  if (fresh.length > 0) {
    let sensor = await findSensor(sql, sensorId);
    if (!sensor) throw unknownSensor(sensorId);
    if (context.source !== undefined && sensor.source !== null && sensor.source !== context.source) {
      throw new HttpProblem(403, 'wrong-source', 'Forbidden', `Sensor "${sensor.id}" reports through source "${sensor.source}", not "${context.source}".`, { sensorId: sensor.id });
    }
    const info = incidentTypeInfo(sensor.incidentType);
    const meta = (alarm: Alarm, id: string, incidentId: string): CommandMeta => ({
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

    /** The alarms not yet placed, in order. */
    let waiting = fresh;
    for (let attempt = 0; attempt < 20 && waiting.length > 0; attempt++) {
      const incidentId = episodeIncidentId(sensor.id, sensor.episode);
      const loaded = await load(store, incidents, incidentId);
      const status = incidentView(loaded.state)?.status;
      if (loaded.revision < 0n) {
        const first = alarms[waiting[0]!]!;
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
                description: describe(sensor, first),
                source: 'sensor',
              },
            },
            meta(first, commandId('report', sensor.id, sensor.episode), incidentId),
          );
          // Another process reported this episode first: this alarm joins it instead.
          if (result.written) {
            answers[waiting[0]!] = { alarmId: first.alarmId, sensorId, incidentId, outcome: 'opened', duplicate: false };
            waiting = waiting.slice(1);
          }
        } catch (error) {
          if (!(error instanceof DuplicateEventError)) throw error;
        }
      } else if (status !== undefined && OPEN.has(status)) {
        // An alarm whose report opened this incident but whose receipt was never written (the process stopped in
        // between, or another process is still at it) is that report, not a note to add to it.
        const description = incidentView(loaded.state)?.description;
        const opener = waiting.find((i) => describe(sensor!, alarms[i]!) === description);
        if (opener !== undefined) {
          answers[opener] = { alarmId: alarms[opener]!.alarmId, sensorId, incidentId, outcome: 'opened', duplicate: true };
          waiting = waiting.filter((i) => i !== opener);
          if (waiting.length === 0) continue;
        }
        await handleCommandsTogether(
          store,
          incidents,
          incidentId,
          waiting.map((i) => ({ command: { type: 'AddNote' as const, data: { text: describe(sensor!, alarms[i]!) } }, meta: meta(alarms[i]!, commandId('alarm', alarms[i]!.alarmId), incidentId) })),
        );
        for (const i of waiting) answers[i] = { alarmId: alarms[i]!.alarmId, sensorId, incidentId, outcome: 'attached', duplicate: false };
        waiting = [];
      } else {
        // The last incident is over (resolved, closed or cancelled): these alarms are a new episode.
        await nextEpisode(sql, sensor.id, sensor.episode);
        sensor = (await findSensor(sql, sensor.id)) ?? sensor;
      }
    }
    if (waiting.length > 0) {
      throw new HttpProblem(503, 'ingest-contended', 'Service Unavailable', `Alarm ${alarms[waiting[0]!]!.alarmId} could not be placed on an incident; please send it again.`);
    }

    const placed = fresh.map((i) => answers[i] as AlarmOutcome);
    await sql`
      insert into alarm_receipts (alarm_id, sensor_id, incident_id, outcome, channel, source)
      select alarm_id, ${sensorId}, incident_id, outcome, ${context.channel}, ${context.source ?? null}
      from unnest(${placed.map((p) => p.alarmId)}::text[], ${placed.map((p) => p.incidentId)}::text[], ${placed.map((p) => p.outcome)}::text[]) as r(alarm_id, incident_id, outcome)
      on conflict (alarm_id) do nothing`;
  }
  // A repeat within the batch is answered as its first: a duplicate of what that one did.
  return alarms.map((alarm, i) => {
    const answer = answers[i] ?? answers[firstOf.get(alarm.alarmId)!]!;
    return answers[i] === undefined && !(answer instanceof HttpProblem) ? { ...answer, duplicate: true } : answer;
  });
}
