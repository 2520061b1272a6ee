import { upcast } from '../domain/index.ts';
import type { LogPosition, RecordedEvent } from '../eventstore/port.ts';

/** A recorded event as the read models see it: its payload upcast to the current schema, its metadata picked out. */
export interface ProjectedEvent {
  seq: number;
  id: string;
  streamId: string;
  revision: number;
  position: LogPosition;
  /** 'incident' | 'unit' for our aggregates; the stream's prefix for anything else. */
  entity: string;
  entityId: string;
  /** The incident the event concerns: the incident itself, or the one a unit event names. */
  incidentId: string | null;
  type: string;
  data: unknown;
  actor: string | null;
  role: string | null;
  agency: string | null;
  commandId: string | null;
  correlationId: string | null;
  causationId: string | null;
  requestId: string | null;
  reason: string | null;
  occurredAt: string;
  recordedAt: string;
}

const text = (value: unknown): string | null =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;

export function entityOf(streamId: string): { entity: string; entityId: string } {
  const dash = streamId.indexOf('-');
  if (dash <= 0) return { entity: streamId, entityId: streamId };
  return { entity: streamId.slice(0, dash), entityId: streamId.slice(dash + 1) };
}

export function toProjected(event: RecordedEvent, seq: number): ProjectedEvent {
  const meta = event.metadata ?? {};
  const data = upcast(event.type, meta.schemaVersion === undefined ? undefined : Number(meta.schemaVersion), event.data);
  const { entity, entityId } = entityOf(event.streamId);
  const recordedAt = event.recordedAt.toISOString();
  const claimed = text(meta.occurredAt);
  // occurred_at is NOT NULL and drives every milestone; an event without a readable business time
  // (never written by our command handler) falls back to when it was stored rather than halting the projector.
  const occurredAt = claimed !== null && !Number.isNaN(Date.parse(claimed)) ? claimed : recordedAt;
  const named = typeof data === 'object' && data !== null ? text((data as { incidentId?: unknown }).incidentId) : null;
  return {
    seq,
    id: event.id,
    streamId: event.streamId,
    revision: Number(event.revision),
    position: event.position,
    entity,
    entityId,
    incidentId: entity === 'incident' ? entityId : named,
    type: event.type,
    data,
    actor: text(meta.actor),
    role: text(meta.role),
    agency: text(meta.agency),
    commandId: text(meta.commandId),
    correlationId: text(meta.$correlationId),
    causationId: text(meta.$causationId),
    requestId: text(meta.requestId),
    reason: text(meta.reason),
    occurredAt,
    recordedAt,
  };
}

export const EVENT_LOG_COLUMNS = [
  'seq', 'event_id', 'stream_id', 'stream_revision', 'entity', 'entity_id', 'incident_id', 'type', 'data', 'actor', 'role',
  'agency', 'command_id', 'correlation_id', 'causation_id', 'request_id', 'reason', 'occurred_at', 'recorded_at',
] as const;

export function eventLogRow(e: ProjectedEvent): Record<(typeof EVENT_LOG_COLUMNS)[number], unknown> {
  return {
    seq: e.seq,
    event_id: e.id,
    stream_id: e.streamId,
    stream_revision: e.revision,
    entity: e.entity,
    entity_id: e.entityId,
    incident_id: e.incidentId,
    type: e.type,
    data: e.data ?? {},
    actor: e.actor,
    role: e.role,
    agency: e.agency,
    command_id: e.commandId,
    correlation_id: e.correlationId,
    causation_id: e.causationId,
    request_id: e.requestId,
    reason: e.reason,
    occurred_at: e.occurredAt,
    recorded_at: e.recordedAt,
  };
}
