import type { Agency, Role } from './catalog.ts';

/**
 * Who issues a command, when, and why. Time, ids and the acting user enter the domain only here:
 * the domain never reads a clock or generates an id.
 */
export interface CommandMeta {
  /** Unique per command; event ids are derived from it so a retry writes nothing new. */
  commandId: string;
  actor: string;
  role: Role;
  agency: Agency;
  /** ISO-8601 business time of the command. */
  occurredAt: string;
  requestId?: string;
  correlationId?: string;
  causationId?: string;
  reason?: string;
  clientAddress?: string;
}

/** Metadata stored with every event. `$correlationId`/`$causationId` follow EventStoreDB's convention. */
export interface EventMeta {
  actor: string;
  role: Role;
  agency: Agency;
  commandId: string;
  $correlationId: string;
  $causationId: string;
  requestId?: string;
  occurredAt: string;
  reason?: string;
  clientAddress?: string;
  schemaVersion: number;
}
