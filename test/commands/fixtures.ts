import type { Agency, Role } from '../../domain/catalog.ts';
import type { CommandMeta } from '../../domain/metadata.ts';
import { newId } from '../../eventstore/eventIds.ts';

let clock = Date.parse('2026-11-25T08:00:00Z');

/** Command metadata with a fresh command id and a business time that moves forward one second per call. */
export function meta(actor = 'dispatcher-1', role: Role = 'dispatcher', agency: Agency = 'fire', extra: Partial<CommandMeta> = {}): CommandMeta {
  clock += 1000;
  return { commandId: newId(), actor, role, agency, occurredAt: new Date(clock).toISOString(), requestId: newId(), ...extra };
}
