// The command side's memory of aggregates it has folded, so a command reads only the events after the last one
// it saw instead of refolding a stream that grows for as long as the unit is in service.
import type { EventStore } from '../../eventstore/port.ts';

/** One stream, folded up to `revision`. */
export interface CachedAggregate {
  state: unknown;
  /** -1 when the stream did not exist when it was folded. */
  revision: bigint;
  /** The id of the event at `revision` (lower case): a later load checks the stream still holds it. */
  lastEventId: string;
  /**
   * The command ids in the stream with the revision of each one's last event: the idempotency check of a
   * retried command. Shared and only ever added to as the stream grows, so a reader folded at an older revision
   * must ignore entries above its own revision.
   */
  commands: Map<string, bigint>;
}

/** How many events the cache may stand for in all (each costs one command-id entry): about 100 bytes each. */
export const DEFAULT_CACHE_BUDGET = 200_000;

/**
 * Least recently used streams are dropped once the cached streams' events add up to more than the budget.
 * A stream's state is a fact of its revision, so an entry is never wrong, only old: loading always reads what
 * came after it. Only a newer revision replaces an entry, so racing loads cannot move one back.
 */
export class StateCache {
  private readonly entries = new Map<string, CachedAggregate>();
  private readonly weights = new Map<string, number>();
  private weight = 0;

  constructor(readonly budget = DEFAULT_CACHE_BUDGET) {}

  get(streamId: string): CachedAggregate | undefined {
    const entry = this.entries.get(streamId);
    if (!entry) return undefined;
    // Map keeps insertion order: re-inserting marks it most recently used.
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    return entry;
  }

  set(streamId: string, entry: CachedAggregate): void {
    const current = this.entries.get(streamId);
    if (current && current.revision > entry.revision) return;
    this.forget(streamId);
    const weight = entry.commands.size + 1;
    if (weight > this.budget) return;
    this.entries.set(streamId, entry);
    this.weights.set(streamId, weight);
    this.weight += weight;
    for (const [oldest] of this.entries) {
      if (this.weight <= this.budget) break;
      this.forget(oldest);
    }
  }

  forget(streamId: string): void {
    if (!this.entries.delete(streamId)) return;
    this.weight -= this.weights.get(streamId) ?? 0;
    this.weights.delete(streamId);
  }

  get size(): number {
    return this.entries.size;
  }
}

const caches = new WeakMap<EventStore, StateCache>();

/** The cache of the commands run against this store in this process. */
export function stateCacheOf(store: EventStore): StateCache {
  let cache = caches.get(store);
  if (!cache) {
    cache = new StateCache();
    caches.set(store, cache);
  }
  return cache;
}
