// Runs the status timers: reads what is open, asks the pure rule (domain/decision/statusTimers.ts) what is overdue
// at the time it is given, and records each answer once as IncidentStatusOverdue on the incident. The command id is
// derived from the rule, the unit and the start of the status, so a repeated tick, a second API instance or a retry
// writes nothing new: one alert per overdue status, however often the clock is asked.
import type { Sql } from 'postgres';
import { nameBasedId } from '../../eventstore/eventIds.ts';
import { DEFAULT_STATUS_TIMERS, dueTimers, isPriority, timerKey, type Agency, type Coordination, type DueTimer, type StatusTimerRule, type TimerIncident } from '../../domain/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { incidents } from '../commands/aggregates.ts';
import { handleCommand } from '../commands/commandHandler.ts';

const TIMER_NAMESPACE = '9d2c7a8e-3b1f-4f5e-8c6d-2a1b0e9f7c35';
export const STATUS_TIMER_ACTOR = 'system:status-timers';

export interface StatusTimerWatchOptions {
  store: EventStore;
  sql: Sql;
  rules?: readonly StatusTimerRule[];
  log?: { warn(obj: object, msg?: string): void };
}

const iso = (value: unknown): string | null => (value === null || value === undefined ? null : value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString());

export class StatusTimerWatch {
  readonly rules: readonly StatusTimerRule[];
  constructor(private readonly options: StatusTimerWatchOptions) {
    this.rules = options.rules ?? DEFAULT_STATUS_TIMERS;
  }

  /** What is overdue at `nowMs`, from the read models, not yet raised; each with the incident's lead agency. */
  async due(nowMs: number): Promise<Array<DueTimer & { lead: Agency }>> {
    const { sql } = this.options;
    const rows = await sql`
      select id, status, priority, agencies, reported_at, first_dispatched_at, first_on_scene_at, coordination
        from incident_board
       where status in ('reported', 'triaged', 'dispatched', 'on_scene')`;
    if (rows.length === 0) return [];
    const units = await sql`
      select id, incident_id, status, status_since from unit_board where incident_id = any(${rows.map((r) => String(r.id))})`;
    const subjects: TimerIncident[] = rows.map((r) => {
      const coordination = (r.coordination ?? null) as Coordination | null;
      return {
        incidentId: String(r.id),
        status: String(r.status),
        priority: isPriority(Number(r.priority)) ? (Number(r.priority) as 1) : 3,
        reportedAt: iso(r.reported_at)!,
        firstDispatchedAt: iso(r.first_dispatched_at),
        firstOnSceneAt: iso(r.first_on_scene_at),
        units: units.filter((u) => u.incident_id === r.id).map((u) => ({ unitId: String(u.id), status: String(u.status), since: iso(u.status_since)! })),
        raised: new Set((coordination?.overdue ?? []).map((o) => timerKey(o.ruleId, o.unitId, o.since))),
      };
    });
    const leads = new Map(rows.map((r) => [String(r.id), ((r.coordination as Coordination | null)?.lead ?? (r.agencies as Agency[] | undefined)?.[0] ?? 'police') as Agency]));
    return dueTimers(subjects, this.rules, nowMs).map((t) => ({ ...t, lead: leads.get(t.incidentId)! }));
  }

  /** Raises every alert due at `nowMs`; returns those this call wrote. */
  async tick(nowMs: number): Promise<Array<DueTimer & { lead: Agency }>> {
    const raised: Array<DueTimer & { lead: Agency }> = [];
    for (const timer of await this.due(nowMs)) {
      try {
        const result = await handleCommand(
          this.options.store,
          incidents,
          timer.incidentId,
          {
            type: 'FlagOverdue',
            data: {
              ruleId: timer.ruleId,
              subject: timer.subject,
              ...(timer.unitId !== undefined && { unitId: timer.unitId }),
              status: timer.status,
              since: timer.since,
              dueAt: timer.dueAt,
              limitSeconds: timer.limitSeconds,
              clearsOn: timer.clearsOn,
            },
          },
          {
            commandId: nameBasedId(`${timer.incidentId}|${timer.key}`, TIMER_NAMESPACE),
            actor: STATUS_TIMER_ACTOR,
            role: 'admin',
            // Recorded in the lead agency's name: it is the lead's incident that is late.
            agency: timer.lead,
            occurredAt: new Date(nowMs).toISOString(),
            correlationId: timer.incidentId,
            reason: timer.label,
          },
        );
        if (result.written) raised.push(timer);
      } catch (error) {
        // The incident moved on between the read and the write (dispatched, merged…): nothing is overdue any more.
        this.options.log?.warn({ err: error, incidentId: timer.incidentId, ruleId: timer.ruleId }, 'status timer not recorded');
      }
    }
    return raised;
  }
}
