import type { Fragment, Sql } from 'postgres';
import { unitShape, type UnitItem } from './shapes.ts';

export interface UnitFilter {
  agency?: string;
  readiness?: string;
  statuses?: string[];
}

// Every role sees every unit: a dispatcher needs to know what other agencies have on the road.
export async function listUnits(sql: Sql, filter: UnitFilter = {}): Promise<UnitItem[]> {
  const parts: Fragment[] = [];
  if (filter.agency !== undefined) parts.push(sql`agency = ${filter.agency}`);
  if (filter.readiness !== undefined) parts.push(sql`readiness = ${filter.readiness}`);
  if (filter.statuses?.length) parts.push(sql`status in ${sql(filter.statuses)}`);
  const where = parts.reduce((all, part) => sql`${all} and ${part}`, sql`true`);
  const rows = await sql`select * from unit_board where ${where} order by agency, call_sign, id`;
  return rows.map(unitShape);
}

export async function findUnit(sql: Sql, id: string): Promise<UnitItem | undefined> {
  const [row] = await sql`select * from unit_board where id = ${id}`;
  return row ? unitShape(row) : undefined;
}
