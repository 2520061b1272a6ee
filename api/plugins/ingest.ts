// Sensor alarms: the signed webhook, MQTT, and the sensor registry (issue 7).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import type { EventStore } from '../../eventstore/port.ts';
import { allowRoles } from '../auth/guards.ts';
import { notFound } from '../http/problem.ts';
import type { AppConfig } from '../config.ts';
import { Closed, Id, IncidentTypeId, Location, Nullable, problems, Text } from '../http/schemas.ts';
import { ingestAlarm, ingestAlarms, type Alarm } from '../ingest/alarms.ts';
import { DEMO_SENSORS } from '../ingest/demoSensors.ts';
import { inboxState, retryGivenUp, startAlarmInbox, type AlarmInbox } from '../ingest/inbox.ts';
import { defaultClientId, startMqttIngest, type MqttIngest } from '../ingest/mqtt.ts';
import { AlarmBody, AlarmResult } from '../ingest/schemas.ts';
import { listSensors, saveSensor, SENSOR_KIND_IDS, SENSOR_KINDS, type NewSensor } from '../ingest/sensors.ts';
import { replayedRequest, SIGNATURE_HEADER, SOURCE_HEADER, TIMESTAMP_HEADER, verifyAlarmRequest, type VerifiedRequest } from '../ingest/signature.ts';

export interface IngestPluginOptions {
  store: EventStore;
  sql: Sql;
  config: AppConfig;
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
    alarmSignature?: VerifiedRequest;
  }
}

const MQTT_READY_WAIT_MS = 5000;

const SensorBody = Closed({
  id: Id,
  kind: Type.Enum([...SENSOR_KIND_IDS]),
  incidentType: Type.Optional(IncidentTypeId),
  location: Location,
  address: Type.Optional(Text(500)),
  source: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'The webhook source allowed to speak for this sensor' })),
});

const SensorItem = Closed({
  id: Type.String(),
  kind: Type.String(),
  incidentType: Type.String(),
  location: Location,
  address: Nullable(Type.String()),
  source: Nullable(Type.String()),
  episode: Type.Integer({ description: 'How many incidents this sensor has opened before its current one' }),
});

const AlarmHeaders = Type.Object(
  {
    [SOURCE_HEADER]: Type.Optional(Type.String({ description: 'The alarm source (one of INGEST_SOURCES)' })),
    [TIMESTAMP_HEADER]: Type.Optional(Type.String({ description: 'Signing time, Unix seconds' })),
    [SIGNATURE_HEADER]: Type.Optional(Type.String({ description: 'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the source key>' })),
  },
  { additionalProperties: true },
);

const ingestPlugin: FastifyPluginAsync<IngestPluginOptions> = async (fastify, { store, sql, config }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const deps = { store, sql };

  // The signature covers the bytes as sent, so this plugin's routes keep the raw body beside the parsed one.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request: FastifyRequest, body: string | Buffer, done) => {
    request.rawBody = typeof body === 'string' ? body : body.toString('utf8');
    parseJson(request, request.rawBody, done);
  });

  let signaturesSinceSweep = 0;

  app.post(
    '/api/ingest/alarms',
    {
      // Checked before the body's shape: an unsigned request learns only that it is unsigned.
      preValidation: async (request) => {
        request.alarmSignature = verifyAlarmRequest(config.ingestSources, request.headers, request.rawBody ?? '', config.ingestMaxSkewSeconds ?? 300);
      },
      schema: {
        tags: ['ingest'],
        summary: 'A sensor alarm, signed with the source HMAC key: opens an incident for the sensor or attaches to its open one',
        headers: AlarmHeaders,
        body: AlarmBody,
        response: { 200: AlarmResult, 201: AlarmResult, ...problems(400, 401, 403, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const signed = request.alarmSignature!;
      const [fresh] = await sql`
        insert into ingest_signatures (signature, source, signed_at) values (${signed.signature}, ${signed.source}, ${signed.signedAt})
        on conflict (signature) do nothing returning signature`;
      if (!fresh) throw replayedRequest();
      if (++signaturesSinceSweep >= 100) {
        signaturesSinceSweep = 0;
        const horizon = new Date(Date.now() - 2 * (config.ingestMaxSkewSeconds ?? 300) * 1000);
        await sql`delete from ingest_signatures where signed_at < ${horizon}`;
      }
      try {
        const outcome = await ingestAlarm(deps, request.body as Alarm, { channel: 'webhook', source: signed.source, requestId: request.id, clientAddress: request.ip });
        return reply.code(outcome.outcome === 'opened' && !outcome.duplicate ? 201 : 200).send(outcome);
      } catch (error) {
        // Refused: the same request may be retried once the cause is fixed (e.g. the sensor registered).
        await sql`delete from ingest_signatures where signature = ${signed.signature}`;
        throw error;
      }
    },
  );

  app.post(
    '/api/sensors',
    {
      onRequest: allowRoles(['admin'], 'register sensors'),
      schema: {
        tags: ['ingest'],
        summary: 'Register a sensor, or move or re-type one (admin)',
        security: [{ bearerAuth: [] }],
        body: SensorBody,
        response: { 200: SensorItem, 201: SensorItem, ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (request, reply) => {
      const { sensor, created } = await saveSensor(sql, request.body as NewSensor);
      return reply.code(created ? 201 : 200).send(sensor);
    },
  );

  app.get(
    '/api/sensors',
    {
      onRequest: allowRoles(['dispatcher', 'supervisor', 'auditor', 'admin'], 'see the sensor registry'),
      schema: { tags: ['ingest'], summary: 'The sensor registry', security: [{ bearerAuth: [] }], response: { 200: Type.Array(SensorItem), ...problems(401, 403, 429, 503) } },
    },
    async () => listSensors(sql),
  );

  const GivenUpItem = Closed({
    id: Type.String({ description: 'The inbox row' }),
    consumer: Type.String({ description: 'The MQTT session (client id) that took the alarm from the broker' }),
    topic: Type.String(),
    alarm: AlarmBody,
    receivedAt: Type.String({ format: 'date-time' }),
    givenUpAt: Type.String({ format: 'date-time' }),
    tries: Type.Integer(),
    lastError: Nullable(Type.String()),
  });

  app.get(
    '/api/ingest/inbox',
    {
      onRequest: allowRoles(['admin', 'auditor'], 'see the alarm inbox'),
      schema: {
        tags: ['ingest'],
        summary: 'The MQTT alarm inbox: how many alarms wait to be stored, and the alarms given up on (newest 100)',
        security: [{ bearerAuth: [] }],
        response: {
          200: Closed({
            waiting: Type.Integer({ description: 'Alarms acknowledged to the broker and not yet stored' }),
            oldestWaitingAt: Nullable(Type.String({ format: 'date-time' })),
            givenUpCount: Type.Integer(),
            givenUp: Type.Array(GivenUpItem),
          }),
          ...problems(401, 403, 429, 503),
        },
      },
    },
    async () => inboxState(sql),
  );

  app.post(
    '/api/ingest/inbox/:id/retry',
    {
      onRequest: allowRoles(['admin'], 'retry a given-up alarm'),
      schema: {
        tags: ['ingest'],
        summary: 'Try an alarm given up on again, once its cause is mended (admin)',
        security: [{ bearerAuth: [] }],
        params: Closed({ id: Type.String({ pattern: '^[0-9]{1,18}$', description: 'The inbox row' }) }),
        response: { 202: Closed({ id: Type.String(), retrying: Type.Boolean() }), ...problems(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await retryGivenUp(sql, id))) throw notFound(`No alarm given up on has inbox id ${id}; it may have been retried already.`, { id });
      return reply.code(202).send({ id, retrying: true });
    },
  );

  let mqttIngest: MqttIngest | undefined;
  let inbox: AlarmInbox | undefined;
  app.addHook('onReady', async () => {
    if (config.demo) for (const sensor of DEMO_SENSORS) await sql`insert into sensors (id, kind, incident_type, lat, lng, address) select ${sensor.id}, ${sensor.kind}, ${sensor.incidentType ?? SENSOR_KINDS[sensor.kind]}, ${sensor.location.lat}, ${sensor.location.lng}, ${sensor.address ?? null} on conflict (id) do nothing`;
    if (config.mqttUrl === undefined) return;
    const prefix = config.mqttTopicPrefix ?? 'citybrain';
    const clientId = config.mqttClientId ?? defaultClientId(prefix);
    const log = fastify.log.child({ component: 'mqtt-ingest' });
    // The broker's session and the inbox go by the same id: alarms this session accepted are stored by it, after a
    // restart too.
    const alarms = startAlarmInbox({ sql, consumer: clientId, ingest: (batch) => ingestAlarms(deps, batch, { channel: 'mqtt' }), log });
    inbox = alarms;
    mqttIngest = startMqttIngest({ url: config.mqttUrl, prefix, clientId, accept: (topic, alarm) => alarms.accept(topic, alarm), log });
    // A broker that is down must not keep the city's dispatch from starting: wait a little, then go on retrying.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([mqttIngest.ready, new Promise((resolve) => (timer = setTimeout(resolve, MQTT_READY_WAIT_MS)))]).catch((error: unknown) =>
      fastify.log.error({ err: error }, `cannot reach the MQTT broker at ${config.mqttUrl}; retrying in the background`),
    );
    clearTimeout(timer);
  });
  app.addHook('onClose', async () => {
    // The broker first: nothing more is accepted, then the alarms being stored are given a moment to finish.
    await mqttIngest?.close();
    await inbox?.close();
  });
};

export default ingestPlugin;
