import { START, type LogPosition } from './port.ts';

/**
 * Helpers shared by adapters whose positions are two unsigned integers "<major>/<minor>"
 * (PostgreSQL: transaction id / global position; EventStoreDB: commit / prepare).
 * Callers outside eventstore/ never parse positions.
 */
export function encodePair(major: bigint | string, minor: bigint | string): LogPosition {
  return `${major}/${minor}`;
}

export function decodePair(position: LogPosition | undefined, adapter: string): [bigint, bigint] | undefined {
  if (position === undefined || position === START) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(position);
  if (!match) throw new TypeError(`not a ${adapter} log position: ${JSON.stringify(position)}`);
  return [BigInt(match[1]!), BigInt(match[2]!)];
}
