import type { EventStore, ReadAllOptions, RecordedEvent } from '../../eventstore/port.ts';

/**
 * The global log as of now: waits until nothing committed is held behind the read horizon first.
 * PostgreSQL's horizon is server-wide, so another suite's open transaction (a CREATE DATABASE next door, say)
 * can briefly hide events this test just wrote; a test that means "everything so far" must wait it out.
 */
export async function readAllSettled(store: EventStore, options?: ReadAllOptions, timeoutMs = 20_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  while (await store.hasHeldBackEvents?.()) {
    if (Date.now() > deadline) throw new Error(`events were still held back after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return store.readAll(options);
}
