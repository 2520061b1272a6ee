import { v5, v7 } from 'uuid';

/**
 * Fixed forever: changing it would give a retried command new event ids and defeat idempotency
 * for every command recorded before the change.
 */
const EVENT_ID_NAMESPACE = '5b1f6c1e-6a43-4b53-9a0e-2f6d3c1b7e90';

/**
 * The id of the `index`-th event a command writes to a stream. A retried command yields the same ids,
 * so the store recognises the retry and writes nothing new.
 */
export function eventIdFor(commandId: string, streamId: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`event index must be a non-negative integer, got ${index}`);
  // JSON keeps the parts apart: "a/b"+"c" and "a"+"b/c" must not collide.
  return v5(JSON.stringify([commandId, streamId, index]), EVENT_ID_NAMESPACE);
}

/** A time-ordered id (UUID v7) for aggregates and commands: index-friendly and sortable by creation. */
export function newId(): string {
  return v7();
}
