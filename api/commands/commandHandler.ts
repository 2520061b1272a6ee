import type { Decider } from '../../domain/decider.ts';
import type { CommandMeta, EventMeta } from '../../domain/metadata.ts';
import { currentSchemaVersion, upcast } from '../../domain/index.ts';
import { ConcurrencyError, type EventStore, type RecordedEvent } from '../../eventstore/port.ts';
import { eventIdFor } from '../../eventstore/eventIds.ts';
import { ContendedError, StaleRevisionError } from './errors.ts';
import { stateCacheOf, type CachedAggregate } from './stateCache.ts';

type AnyEvent = { type: string; data: unknown };

export interface Aggregate<S, C, E extends AnyEvent> {
  decider: Decider<S, C, E>;
  stream: (id: string) => string;
}

export interface Loaded<S> {
  state: S;
  /** -1 when the stream does not exist yet. */
  revision: bigint;
  /** The revision of the last event this command id wrote to the stream, if it wrote any (a retry). */
  revisionOf(commandId: string): bigint | undefined;
  /**
   * False when this is what the process remembers of the stream, not checked against the store (loadCached):
   * an append at its revision is still safe (a stale one conflicts), but a refusal decided on it must be
   * decided again on a fresh load before it is believed.
   */
  fresh: boolean;
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
  /** The stream as the caller has just loaded it: the first attempt decides on it instead of reading again. */
  loaded?: Loaded<S>;
}

export function toDomainEvent(recorded: RecordedEvent): AnyEvent {
  const version = Number((recorded.metadata as { schemaVersion?: number }).schemaVersion ?? 1);
  return { type: recorded.type, data: upcast(recorded.type, version, recorded.data) };
}

function commandIdOf(event: RecordedEvent): string | undefined {
  const id = (event.metadata as { commandId?: unknown }).commandId;
  return typeof id === 'string' ? id : undefined;
}

/** The fold each Loaded was made from, so a successful append can remember the state it leads to. */
const foldOf = new WeakMap<object, CachedAggregate>();

function loadedFrom<S>(entry: CachedAggregate, fresh: boolean): Loaded<S> {
  const { revision, commands } = entry;
  const loaded: Loaded<S> = {
    state: entry.state as S,
    revision,
    fresh,
    revisionOf: (commandId) => {
      const at = commands.get(commandId);
      // The map is shared with newer folds of the stream; what lies beyond this fold is not part of it.
      return at !== undefined && at <= revision ? at : undefined;
    },
  };
  foldOf.set(loaded, entry);
  return loaded;
}

/** A stream with nothing folded yet. */
function unfolded<S, C, E extends AnyEvent>(aggregate: Aggregate<S, C, E>): CachedAggregate {
  return { state: aggregate.decider.initialState(), revision: -1n, lastEventId: '', commands: new Map() };
}

function foldInto<S, C, E extends AnyEvent>(aggregate: Aggregate<S, C, E>, from: CachedAggregate, events: RecordedEvent[]): CachedAggregate {
  let state = from.state as S;
  for (const recorded of events) {
    state = aggregate.decider.evolve(state, toDomainEvent(recorded) as E);
    const commandId = commandIdOf(recorded);
    if (commandId !== undefined) from.commands.set(commandId, recorded.revision);
  }
  const last = events.at(-1);
  return last ? { state, revision: last.revision, lastEventId: last.id.toLowerCase(), commands: from.commands } : from;
}

/**
 * The aggregate as its stream stands now. Folded states are kept per store (see stateCache.ts): a later load
 * reads from the last event it folded, checks that event is still the one it remembers (a stream restored from a
 * backup, or emptied under a running process, is folded afresh), and folds only what came after.
 */
export async function load<S, C, E extends AnyEvent>(store: EventStore, aggregate: Aggregate<S, C, E>, id: string): Promise<Loaded<S>> {
  const streamId = aggregate.stream(id);
  const cache = stateCacheOf(store);
  const cached = cache.get(streamId);
  if (cached) {
    const events = await store.readStream(streamId, { fromRevision: cached.revision });
    if (events[0]?.id.toLowerCase() === cached.lastEventId) {
      const entry = foldInto(aggregate, cached, events.slice(1));
      if (entry !== cached) cache.set(streamId, entry);
      return loadedFrom(entry, true);
    }
    cache.forget(streamId);
  }
  const entry = foldInto(aggregate, unfolded(aggregate), await store.readStream(streamId));
  if (entry.revision >= 0n) cache.set(streamId, entry);
  return loadedFrom(entry, true);
}

/**
 * What this process remembers of the stream, without asking the store; a stream it does not remember is loaded.
 * Commands decide on it optimistically: the append at its revision is the check (another process's write makes
 * it conflict, and the command is decided again on a fresh load), so a command on a remembered stream costs one
 * write and no read. A refusal decided on it is checked again on a fresh load (see `Loaded.fresh`).
 */
export async function loadCached<S, C, E extends AnyEvent>(store: EventStore, aggregate: Aggregate<S, C, E>, id: string): Promise<Loaded<S>> {
  const cached = stateCacheOf(store).get(aggregate.stream(id));
  return cached ? loadedFrom(cached, false) : load(store, aggregate, id);
}

/**
 * Runs `attempt` on what the process remembers of the streams, and once more on fresh loads if it refused (threw)
 * on remembered ones: a refusal must hold for the streams as they stand, not as this process last saw them.
 */
export async function withFreshOnRefusal<L extends Loaded<unknown>[], T>(
  remembered: () => Promise<L>,
  fresh: () => Promise<L>,
  attempt: (loaded: L) => T | Promise<T>,
): Promise<T> {
  const loaded = await remembered();
  if (loaded.every((l) => l.fresh)) return attempt(loaded);
  try {
    return await attempt(loaded);
  } catch {
    return attempt(await fresh());
  }
}

/** The whole stream read and folded, bypassing the cache, for the few commands that need the events themselves. */
export async function loadWithEvents<S, C, E extends AnyEvent>(
  store: EventStore,
  aggregate: Aggregate<S, C, E>,
  id: string,
): Promise<{ state: S; revision: bigint; events: RecordedEvent[] }> {
  const events = await store.readStream(aggregate.stream(id));
  const { state, revision } = foldInto(aggregate, unfolded(aggregate), events);
  return { state: state as S, revision, events };
}

/** Drops what this process remembers of a stream, e.g. after personal data in it was erased. */
export function forgetLoaded(store: EventStore, streamId: string): void {
  stateCacheOf(store).forget(streamId);
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
  let loaded = options.loaded ?? (await loadCached(store, aggregate, id));
  for (let attempt = 1; ; attempt++) {
    let newEvents: E[];
    try {
      options.authorize?.(loaded.state);
      const earlier = loaded.revisionOf(meta.commandId);
      if (earlier !== undefined) return { state: loaded.state, revision: earlier, events: [], written: false };
      if (options.ifMatch !== undefined && options.ifMatch !== loaded.revision) {
        throw new StaleRevisionError(streamId, options.ifMatch, loaded.revision);
      }
      newEvents = aggregate.decider.decide(command, loaded.state);
    } catch (error) {
      // Refused on what this process remembered: the stream may have moved on elsewhere; ask it before refusing.
      if (loaded.fresh) throw error;
      loaded = await load(store, aggregate, id);
      attempt -= 1;
      continue;
    }
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
      const fold = foldOf.get(loaded);
      if (result.written && fold) {
        // These events now stand at the revisions after the fold: remember the state they lead to.
        fold.commands.set(meta.commandId, result.nextRevision);
        const lastEventId = eventIdFor(meta.commandId, streamId, newEvents.length - 1).toLowerCase();
        stateCacheOf(store).set(streamId, { state, revision: result.nextRevision, lastEventId, commands: fold.commands });
      }
      return { state, revision: result.nextRevision, events: result.written ? newEvents : [], written: result.written };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      // Someone else wrote first. The next load reads what came after the remembered fold, and folds afresh if
      // the event it remembers is gone (a store emptied or restored under a running process).
      if (options.ifMatch !== undefined) {
        throw new StaleRevisionError(streamId, options.ifMatch, typeof error.actual === 'bigint' ? error.actual : -1n);
      }
      if (attempt >= maxAttempts) throw new ContendedError(streamId, attempt);
      // A remembered state that was merely stale is decided again at once; a crowd of writers to one stream is
      // spread out so it does not keep colliding in lockstep.
      if (loaded.fresh) await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      loaded = await load(store, aggregate, id);
    }
  }
}

/**
 * Several commands to one stream, decided one after another on the state each leaves, and appended together at the
 * loaded revision: one write for all of them (an alarm storm's notes on its incident). Each keeps its own command
 * id and event ids, so a retry of any of them writes nothing again. A conflict reloads and decides them all again;
 * a refusal is thrown as `handleCommand` throws it (checked on a fresh load first), and nothing is written.
 */
export async function handleCommandsTogether<S, C, E extends AnyEvent>(
  store: EventStore,
  aggregate: Aggregate<S, C, E>,
  id: string,
  commands: Array<{ command: C; meta: CommandMeta }>,
  maxAttempts = 8,
): Promise<{ state: S; revision: bigint; written: boolean[] }> {
  const streamId = aggregate.stream(id);
  let loaded = await loadCached(store, aggregate, id);
  for (let attempt = 1; ; attempt++) {
    const toAppend: Parameters<EventStore['append']>[1] = [];
    const written: boolean[] = [];
    /** Each written command's id, and how many events it adds. */
    const applied: Array<{ commandId: string; count: number }> = [];
    let state = loaded.state;
    try {
      for (const { command, meta } of commands) {
        if (loaded.revisionOf(meta.commandId) !== undefined || applied.some((a) => a.commandId === meta.commandId)) {
          written.push(false);
          continue;
        }
        const events = aggregate.decider.decide(command, state);
        events.forEach((event, index) =>
          toAppend.push({
            id: eventIdFor(meta.commandId, streamId, index),
            type: event.type,
            data: event.data,
            metadata: eventMeta(meta, event.type, id) as unknown as Record<string, unknown>,
          }),
        );
        for (const event of events) state = aggregate.decider.evolve(state, event);
        written.push(events.length > 0);
        if (events.length > 0) applied.push({ commandId: meta.commandId, count: events.length });
      }
    } catch (error) {
      if (loaded.fresh) throw error;
      loaded = await load(store, aggregate, id);
      attempt -= 1;
      continue;
    }
    if (toAppend.length === 0) return { state, revision: loaded.revision, written };
    try {
      const result = await store.append(streamId, toAppend, loaded.revision < 0n ? 'no_stream' : loaded.revision);
      const fold = foldOf.get(loaded);
      if (result.written && fold) {
        let revision = loaded.revision;
        for (const { commandId, count } of applied) {
          revision += BigInt(count);
          fold.commands.set(commandId, revision);
        }
        stateCacheOf(store).set(streamId, { state, revision: result.nextRevision, lastEventId: toAppend.at(-1)!.id.toLowerCase(), commands: fold.commands });
      }
      return { state, revision: result.nextRevision, written: result.written ? written : written.map(() => false) };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      if (attempt >= maxAttempts) throw new ContendedError(streamId, attempt);
      if (loaded.fresh) await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      loaded = await load(store, aggregate, id);
    }
  }
}
