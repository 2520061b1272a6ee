import type { Sql, Fragment } from 'postgres';
import type { Actor } from '../auth/actor.ts';
import { readsCitywide } from '../auth/guards.ts';
import { incidentShape, type IncidentItem } from './shapes.ts';

export interface IncidentFilter {
  statuses?: string[];
  agency?: string;
  priorities?: number[];
  type?: string;
  bbox?: { minLng: number; minLat: number; maxLng: number; maxLat: number };
  updatedSince?: string;
  limit: number;
  offset: number;
}

export interface IncidentPage {
  items: IncidentItem[];
  total: number;
}

/** Conditions every incident query applies: the filter, and for agency staff their agency's incidents only. */
function conditions(sql: Sql, actor: Actor, filter: Omit<IncidentFilter, 'limit' | 'offset'>): Fragment {
  const parts: Fragment[] = [];
  if (!readsCitywide(actor)) parts.push(sql`${actor.agency} = any(agencies)`);
  if (filter.statuses?.length) parts.push(sql`status in ${sql(filter.statuses)}`);
  if (filter.agency !== undefined) parts.push(sql`${filter.agency} = any(agencies)`);
  if (filter.priorities?.length) parts.push(sql`priority in ${sql(filter.priorities)}`);
  if (filter.type !== undefined) parts.push(sql`type = ${filter.type}`);
  if (filter.bbox) {
    const { minLng, minLat, maxLng, maxLat } = filter.bbox;
    parts.push(sql`lng between ${minLng} and ${maxLng} and lat between ${minLat} and ${maxLat}`);
  }
  if (filter.updatedSince !== undefined) parts.push(sql`updated_at >= ${filter.updatedSince}::timestamptz`);
  return parts.reduce((all, part) => sql`${all} and ${part}`, sql`true`);
}

export async function listIncidents(sql: Sql, actor: Actor, filter: IncidentFilter): Promise<IncidentPage> {
  const where = conditions(sql, actor, filter);
  const [rows, [count]] = await Promise.all([
    sql`select * from incident_board where ${where} order by priority, reported_at, id limit ${filter.limit} offset ${filter.offset}`,
    sql<{ total: string }[]>`select count(*) as total from incident_board where ${where}`,
  ]);
  return { items: rows.map(incidentShape), total: Number(count?.total ?? 0) };
}

export async function findIncident(sql: Sql, id: string): Promise<IncidentItem | undefined> {
  const [row] = await sql`select * from incident_board where id = ${id}`;
  return row ? incidentShape(row) : undefined;
}
