import type { Actor } from '../auth/actor.ts';

/**
 * What the live feed (GET /api/live) sends, one JSON object per WebSocket text message.
 *
 * `position` is event_log.seq: every event of the city has one, 1, 2, 3… in log order. A client keeps the
 * position of the last message it applied and reconnects with `?since=<position>` to get everything after it.
 */

export type LiveEntity = 'incident' | 'unit';

/** The first message. Changes that follow have positions above `position`, unless a reset moves the base. */
export interface HelloMessage {
  type: 'hello';
  /** Where this connection resumes from: the client's `since`, or the head of the log when it gave none. */
  position: number;
  /** The newest position the server knew of when the client connected. */
  head: number;
  user: LiveUser;
}

/** One event of the log, with the current board row of what it changed. */
export interface ChangeMessage {
  type: 'change';
  position: number;
  entity: LiveEntity;
  id: string;
  incidentId: string | null;
  eventType: string;
  data: unknown;
  occurredAt: string;
  actor: string | null;
  incident?: unknown;
  unit?: unknown;
}

/** Replaces the client's whole picture: the state as of `position`; live changes continue after it. */
export interface ResetMessage {
  type: 'reset';
  position: number;
  /** Why the client got a snapshot instead of the changes it asked for. */
  reason: 'too_far_behind' | 'ahead_of_log' | 'requested';
  incidents: unknown[];
  units: unknown[];
}

/**
 * Operational alerts. `kind: 'overdue'`: a status timer fired (IncidentStatusOverdue), sent to live clients that see
 * the incident right after its change message; `ruleId`, `status`, `since`, `dueAt` and `unitId` come from the event.
 */
export interface AlertMessage {
  type: 'alert';
  [key: string]: unknown;
}

/**
 * Heartbeat. `position` is how far the server has looked on this client's behalf, changes it was not
 * allowed to see included, so a client outside most traffic can still resume from near the head.
 */
export interface PingMessage {
  type: 'ping';
  position: number;
}

export type LiveMessage = HelloMessage | ChangeMessage | ResetMessage | AlertMessage | PingMessage;

/** Who opened the feed, as their ticket or token says. */
export type LiveUser = Actor;

/** WebSocket close codes the feed uses (4000–4999 are the application's). */
export const CLOSE_CODES = {
  /** No valid ticket or token: get a new ticket and reconnect. */
  unauthorized: 4401,
  /** The client did not read fast enough: reconnect with `since` and nothing is lost. */
  tooSlow: 4008,
  /** The server is shutting down: reconnect with `since` (to another instance, or later). */
  goingAway: 1001,
  /** Bad query parameters. */
  badRequest: 4400,
} as const;
