import type { Decider } from '../../domain/decider.ts';
import type { CommandMeta, EventMeta } from '../../domain/metadata.ts';
import { currentSchemaVersion, upcast } from '../../domain/index.ts';
import { ConcurrencyError, type EventStore, type RecordedEvent } from '../../eventstore/port.ts';
import { eventIdFor } from '../../eventstore/eventIds.ts';
import { ContendedError, StaleRevisionError } from './errors.ts';

type AnyEvent = { type: string; data: unknown };

export interface Aggregate<S, C, E extends AnyEvent> {
  decider: Decider<S, C, E>;
  stream: (id: string) => string;
}

export interface Loaded<S> {
  state: S;
  /** -1 when the stream does not exist yet. */
  revision: bigint;
  events: RecordedEvent[];
}

export interface CommandResult<S, E> {
  state: S;
  revision: bigint;
  /** The events this command wrote (empty on an idempotent retry). */
  events: E[];
  /** False when this command id had already been applied: nothing new was written. */
  written: boolean;
}

export interface HandleOptions<S = unknown> {
  /** The client's If-Match: reject with 412 instead of retrying when the stream has moved on. */
  ifMatch?: bigint;
  maxAttempts?: number;
  /**
   * Runs on every freshly loaded state before anything else (the API's "may this caller act on this record"):
   * throwing refuses the command on the same read that decides it, with nothing written.
   */
  authorize?: (state: S) => void;
}

export function toDomainEvent(recorded: RecordedEvent): AnyEvent {
  const version = Number((recorded.metadata as { schemaVersion?: number }).schemaVersion ?? 1);
  return { type: recorded.type, data: upcast(recorded.type, version, recorded.data) };
}

export async function load<S, C, E extends AnyEvent>(store: EventStore, aggregate: Aggregate<S, C, E>, id: string): Promise<Loaded<S>> {
  const events = await store.readStream(aggregate.stream(id));
  let state = aggregate.decider.initialState();
  for (const recorded of events) state = aggregate.decider.evolve(state, toDomainEvent(recorded) as E);
  const last = events.at(-1);
  return { state, revision: last ? last.revision : -1n, events };
}

export function eventMeta(meta: CommandMeta, type: string, correlationId: string): EventMeta {
  return {
    actor: meta.actor,
    role: meta.role,
    agency: meta.agency,
    commandId: meta.commandId,
    $correlationId: meta.correlationId ?? correlationId,
    $causationId: meta.causationId ?? meta.commandId,
    ...(meta.requestId !== undefined && { requestId: meta.requestId }),
    occurredAt: meta.occurredAt,
    ...(meta.reason !== undefined && { reason: meta.reason }),
    ...(meta.clientAddress !== undefined && { clientAddress: meta.clientAddress }),
    schemaVersion: currentSchemaVersion(type),
  };
}

/**
 * Load → decide → append at the loaded revision. A concurrency conflict means someone else wrote first:
 * reload and decide again (the command may now be refused, which is the right answer), a bounded number of times.
 * A command id already present in the stream is a retry: it returns the earlier outcome and writes nothing.
 */
export async function handleCommand<S, C, E extends AnyEvent>(
  store: EventStore,
  aggregate: Aggregate<S, C, E>,
  id: string,
  command: C,
  meta: CommandMeta,
  options: HandleOptions<S> = {},
): Promise<CommandResult<S, E>> {
  const streamId = aggregate.stream(id);
  const maxAttempts = options.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    const loaded = await load(store, aggregate, id);
    options.authorize?.(loaded.state);
    const earlier = loaded.events.filter((e) => (e.metadata as { commandId?: string }).commandId === meta.commandId);
    if (earlier.length > 0) {
      return { state: loaded.state, revision: earlier.at(-1)!.revision, events: [], written: false };
    }
    if (options.ifMatch !== undefined && options.ifMatch !== loaded.revision) {
      throw new StaleRevisionError(streamId, options.ifMatch, loaded.revision);
    }
    const newEvents = aggregate.decider.decide(command, loaded.state);
    if (newEvents.length === 0) return { state: loaded.state, revision: loaded.revision, events: [], written: false };
    try {
      const result = await store.append(
        streamId,
        newEvents.map((event, index) => ({
          id: eventIdFor(meta.commandId, streamId, index),
          type: event.type,
          data: event.data,
          metadata: eventMeta(meta, event.type, id) as unknown as Record<string, unknown>,
        })),
        loaded.revision < 0n ? 'no_stream' : loaded.revision,
      );
      let state = loaded.state;
      for (const event of newEvents) state = aggregate.decider.evolve(state, event);
      return { state, revision: result.nextRevision, events: result.written ? newEvents : [], written: result.written };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      if (options.ifMatch !== undefined) {
        throw new StaleRevisionError(streamId, options.ifMatch, typeof error.actual === 'bigint' ? error.actual : -1n);
      }
      if (attempt >= maxAttempts) throw new ContendedError(streamId, attempt);
      // Spread retries out so a crowd of writers to one stream does not keep colliding in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}
