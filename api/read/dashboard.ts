import type { Fragment, Sql } from 'postgres';
import { Type, type Static } from 'typebox';
import { AGENCIES, PRIORITIES } from '../../domain/index.ts';
import { Closed, Nullable } from '../http/schemas.ts';

/** Incidents still being worked: reported and not yet resolved, closed or cancelled. */
export const OPEN_STATUSES = ['reported', 'triaged', 'dispatched', 'on_scene'] as const;

const Durations = Closed({
  p50: Nullable(Type.Number({ description: 'seconds' })),
  p90: Nullable(Type.Number({ description: 'seconds' })),
  n: Type.Integer({ description: 'incidents that reached this milestone' }),
});

export const Dashboard = Closed({
  from: Nullable(Type.String({ format: 'date-time' })),
  to: Nullable(Type.String({ format: 'date-time' })),
  open: Closed({
    total: Type.Integer(),
    byAgency: Type.Record(Type.String(), Type.Integer()),
    byPriority: Type.Record(Type.String(), Type.Integer()),
  }),
  countsByType: Type.Record(Type.String(), Type.Integer()),
  kpis: Closed({ receivedToDispatch: Durations, receivedToOnScene: Durations, receivedToResolved: Durations }),
  units: Closed({
    total: Type.Integer(),
    available: Type.Integer(),
    busy: Type.Integer(),
    outOfService: Type.Integer(),
    utilisation: Type.Number({ description: 'busy / (available + busy), 0 when no unit is in service' }),
  }),
});
export type Dashboard = Static<typeof Dashboard>;

interface Window {
  from?: string;
  to?: string;
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * The city dashboard. The window (on when incidents were reported) applies to everything about incidents;
 * units are counted as they are now. Durations run from the report to each milestone's first time, and
 * the percentiles interpolate between the closest ranks (PostgreSQL's percentile_cont).
 */
export async function dashboard(sql: Sql, window: Window): Promise<Dashboard> {
  const parts: Fragment[] = [];
  if (window.from !== undefined) parts.push(sql`reported_at >= ${window.from}::timestamptz`);
  if (window.to !== undefined) parts.push(sql`reported_at < ${window.to}::timestamptz`);
  const reported = parts.reduce((all, part) => sql`${all} and ${part}`, sql`true`);

  const [byAgency, byPriority, byType, [kpi], [units]] = await Promise.all([
    sql<{ agency: string; n: string }[]>`
      select a.agency, count(*) as n
        from incident_board, unnest(agencies) as a(agency)
       where status in ${sql(OPEN_STATUSES)} and ${reported}
       group by a.agency`,
    sql<{ priority: number; n: string }[]>`
      select priority, count(*) as n from incident_board where status in ${sql(OPEN_STATUSES)} and ${reported} group by priority`,
    sql<{ type: string; n: string }[]>`select type, count(*) as n from incident_board where ${reported} group by type order by type`,
    sql`
      select
        percentile_cont(0.5) within group (order by extract(epoch from first_dispatched_at - reported_at)::float8) as dispatch_p50,
        percentile_cont(0.9) within group (order by extract(epoch from first_dispatched_at - reported_at)::float8) as dispatch_p90,
        count(first_dispatched_at) as dispatch_n,
        percentile_cont(0.5) within group (order by extract(epoch from first_on_scene_at - reported_at)::float8) as scene_p50,
        percentile_cont(0.9) within group (order by extract(epoch from first_on_scene_at - reported_at)::float8) as scene_p90,
        count(first_on_scene_at) as scene_n,
        percentile_cont(0.5) within group (order by extract(epoch from resolved_at - reported_at)::float8) as resolved_p50,
        percentile_cont(0.9) within group (order by extract(epoch from resolved_at - reported_at)::float8) as resolved_p90,
        count(resolved_at) as resolved_n
      from incident_board where ${reported}`,
    sql`
      select
        count(*) as total,
        count(*) filter (where readiness = 'out_of_service') as out_of_service,
        count(*) filter (where readiness <> 'out_of_service' and status <> 'idle') as busy,
        count(*) filter (where readiness <> 'out_of_service' and status = 'idle') as available
      from unit_board`,
  ]);

  const agencyCounts: Record<string, number> = Object.fromEntries(AGENCIES.map((a) => [a, 0]));
  for (const row of byAgency) agencyCounts[row.agency] = Number(row.n);
  const priorityCounts: Record<string, number> = Object.fromEntries(PRIORITIES.map((p) => [String(p), 0]));
  for (const row of byPriority) priorityCounts[String(row.priority)] = Number(row.n);
  const typeCounts: Record<string, number> = Object.fromEntries(byType.map((row) => [row.type, Number(row.n)]));

  const durations = (prefix: string) => {
    const n = Number(kpi?.[`${prefix}_n`] ?? 0);
    return { p50: n === 0 ? null : num(kpi?.[`${prefix}_p50`]), p90: n === 0 ? null : num(kpi?.[`${prefix}_p90`]), n };
  };
  const available = Number(units?.available ?? 0);
  const busy = Number(units?.busy ?? 0);

  return {
    from: window.from ?? null,
    to: window.to ?? null,
    open: { total: Object.values(priorityCounts).reduce((a, b) => a + b, 0), byAgency: agencyCounts, byPriority: priorityCounts },
    countsByType: typeCounts,
    kpis: { receivedToDispatch: durations('dispatch'), receivedToOnScene: durations('scene'), receivedToResolved: durations('resolved') },
    units: {
      total: Number(units?.total ?? 0),
      available,
      busy,
      outOfService: Number(units?.out_of_service ?? 0),
      utilisation: available + busy === 0 ? 0 : Math.round((busy / (available + busy)) * 1000) / 1000,
    },
  };
}
