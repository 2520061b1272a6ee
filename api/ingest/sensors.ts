import type { Sql } from 'postgres';
import type { IncidentType } from '../../domain/index.ts';

/** What kind of device a sensor is, and the incident an alarm from it opens unless the registry says otherwise. */
export const SENSOR_KINDS = {
  smoke_alarm: 'fire_alarm',
  fire_alarm: 'fire_alarm',
  gas_detector: 'gas_leak',
  water_level: 'flooding',
  traffic_camera: 'traffic_accident',
  construction_monitor: 'work_safety_violation',
} as const satisfies Record<string, IncidentType>;
export type SensorKind = keyof typeof SENSOR_KINDS;
export const SENSOR_KIND_IDS = Object.keys(SENSOR_KINDS) as SensorKind[];

export const SENSOR_KIND_NAMES: Record<SensorKind, string> = {
  smoke_alarm: 'Smoke alarm',
  fire_alarm: 'Fire alarm',
  gas_detector: 'Gas detector',
  water_level: 'Water-level gauge',
  traffic_camera: 'Traffic camera (accident detection)',
  construction_monitor: 'Construction-site monitor',
};

export interface Sensor {
  id: string;
  kind: SensorKind;
  incidentType: IncidentType;
  location: { lat: number; lng: number };
  address: string | null;
  source: string | null;
  episode: number;
}

export interface NewSensor {
  id: string;
  kind: SensorKind;
  incidentType?: IncidentType;
  location: { lat: number; lng: number };
  address?: string;
  source?: string;
}

type Row = { id: string; kind: string; incident_type: string; lat: number; lng: number; address: string | null; source: string | null; episode: number };

const toSensor = (row: Row): Sensor => ({
  id: row.id,
  kind: row.kind as SensorKind,
  incidentType: row.incident_type as IncidentType,
  location: { lat: Number(row.lat), lng: Number(row.lng) },
  address: row.address,
  source: row.source,
  episode: Number(row.episode),
});

export async function findSensor(sql: Sql, id: string): Promise<Sensor | undefined> {
  const [row] = await sql<Row[]>`select id, kind, incident_type, lat, lng, address, source, episode from sensors where id = ${id}`;
  return row ? toSensor(row) : undefined;
}

export async function listSensors(sql: Sql): Promise<Sensor[]> {
  const rows = await sql<Row[]>`select id, kind, incident_type, lat, lng, address, source, episode from sensors order by id`;
  return rows.map(toSensor);
}

/** Registers a sensor or moves/re-types an existing one; its episode (and so its open incident) is kept. */
export async function saveSensor(sql: Sql, sensor: NewSensor): Promise<{ sensor: Sensor; created: boolean }> {
  const incidentType = sensor.incidentType ?? SENSOR_KINDS[sensor.kind];
  const [row] = await sql<(Row & { created: boolean })[]>`
    insert into sensors (id, kind, incident_type, lat, lng, address, source)
    values (${sensor.id}, ${sensor.kind}, ${incidentType}, ${sensor.location.lat}, ${sensor.location.lng}, ${sensor.address ?? null}, ${sensor.source ?? null})
    on conflict (id) do update set kind = excluded.kind, incident_type = excluded.incident_type, lat = excluded.lat, lng = excluded.lng,
      address = excluded.address, source = excluded.source
    returning id, kind, incident_type, lat, lng, address, source, episode, (xmax = 0) as created`;
  return { sensor: toSensor(row!), created: Boolean(row!.created) };
}

/** Starts the sensor's next episode if it is still at `episode` (another alarm may have started it already). */
export async function nextEpisode(sql: Sql, id: string, episode: number): Promise<void> {
  await sql`update sensors set episode = episode + 1 where id = ${id} and episode = ${episode}`;
}
