import { afterAll, beforeAll, expect, it } from 'vitest';
import { incidents } from '../../api/commands/aggregates.ts';
import { eventMeta, handleCommand } from '../../api/commands/commandHandler.ts';
import type { HelloMessage } from '../../api/live/messages.ts';
import { incidentStream, type CommandMeta } from '../../domain/index.ts';
import { eventIdFor, newId } from '../../eventstore/eventIds.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { eventually, LiveClient } from './liveClient.ts';

// A client that stops reading must not hold anyone else up: it is cut with 4008 and resumes with since.

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
  // Small enough that a stalled socket crosses it after a few MB (the kernel buffers the rest).
  s.app.liveHub.tune({ maxBufferedBytes: 256 * 1024, pageSize: 100 });
});

afterAll(async () => {
  await s?.close();
});

function meta(): CommandMeta {
  return { commandId: newId(), actor: 'load-test', role: 'admin', agency: 'police', occurredAt: new Date().toISOString() };
}

/**
 * Writes `incidentCount` incidents with `notesEach` notes straight into the store: each change on the feed
 * carries a 4,000-character description plus a 2,000-character note, about 6.5 KB.
 */
async function flood(incidentCount: number, notesEach: number): Promise<void> {
  const description = 'D'.repeat(4000);
  const text = 'N'.repeat(2000);
  await Promise.all(
    Array.from({ length: incidentCount }, async () => {
      const incidentId = newId();
      const reported = await handleCommand(
        s.store,
        incidents,
        incidentId,
        { type: 'ReportIncident', data: { incidentId, type: 'public_order', priority: 4, location: { lat: 27.1, lng: 115 }, description } },
        meta(),
      );
      written += 1 + notesEach;
      const notes = meta();
      const streamId = incidentStream(incidentId);
      await s.store.append(
        streamId,
        Array.from({ length: notesEach }, (_, index) => ({
          id: eventIdFor(notes.commandId, streamId, index),
          type: 'IncidentNoteAdded',
          data: { text },
          metadata: eventMeta(notes, 'IncidentNoteAdded', incidentId) as unknown as Record<string, unknown>,
        })),
        reported.revision,
      );
    }),
  );
}

/** Events this suite has written; the suite's database holds nothing else. */
let written = 0;

/** The head of event_log once every event written so far is in it. */
async function head(): Promise<number> {
  await s.settle();
  return eventually(async () => {
    const [row] = await s.sql<{ n: number; head: string | null }[]>`select count(*)::int as n, max(seq)::text as head from event_log`;
    return row && row.n >= written ? Number(row.head ?? 0) : undefined;
  }, `${written} events in event_log`);
}

async function open(query: { since?: number } = {}): Promise<{ client: LiveClient; hello: HelloMessage }> {
  const response = await s.call('POST', '/api/live/ticket', { token: await s.login('admin') });
  const client = await LiveClient.open(s.baseUrl, { ticket: response.body.ticket, ...query });
  await client.until((m) => m.length > 0, 'hello');
  return { client, hello: client.messages[0] as HelloMessage };
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

it('cuts a client that stops reading with 4008 while another keeps receiving, and the cut one resumes without a gap', async () => {
  const { client: fast, hello } = await open();
  const { client: slow } = await open();
  const start = hello.position;
  expect(s.app.liveHub.clientCount).toBe(2);
  slow.pause();

  // How much it takes to fill the kernel's socket buffers varies by machine: keep writing until the hub
  // has let the stalled client go (it leaves the hub's client set at once), a bounded number of rounds.
  let end = start;
  for (let round = 0; round < 12 && s.app.liveHub.clientCount > 1; round++) {
    await flood(10, 49);
    end = await head();
    await fast.untilPosition(end, 60_000);
  }
  expect(s.app.liveHub.clientCount).toBe(1);
  expect(end - start).toBeGreaterThan(0);

  // The fast client got everything, in order, while the other one was stalled.
  expect(fast.changes().map((c) => c.position)).toEqual(range(start + 1, end));

  // Woken up, the cut client reads what was queued for it, then the close frame.
  slow.resume();
  const closed = await slow.closed;
  expect(closed.code).toBe(4008);
  const suggested = Number(/since=(\d+)/.exec(closed.reason)?.[1]);
  const got = slow.changes().map((c) => c.position);
  expect(got.length).toBeGreaterThan(0);
  expect(got).toEqual(range(start + 1, got.at(-1)!));
  expect(suggested).toBe(got.at(-1));
  expect(suggested).toBeLessThan(end);

  // Resuming from its last position fills the gap exactly, then live changes follow.
  const { client: resumed } = await open({ since: suggested });
  await resumed.untilPosition(end, 60_000);
  expect(resumed.changes().map((c) => c.position)).toEqual(range(suggested + 1, end));
  await flood(1, 1);
  const after = await head();
  await Promise.all([resumed.untilPosition(after), fast.untilPosition(after)]);
  expect(resumed.changes().map((c) => c.position)).toEqual(range(suggested + 1, after));
  expect(fast.changes().map((c) => c.position)).toEqual(range(start + 1, after));
  await Promise.all([fast.close(), resumed.close()]);
});
