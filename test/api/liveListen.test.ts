import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../../api/auth/plugin.ts';
import { registerErrorHandling } from '../../api/http/errors.ts';
import type { HelloMessage } from '../../api/live/messages.ts';
import live from '../../api/plugins/live.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { LiveClient } from './liveClient.ts';

// Several API instances share one projector: an instance without it hears commits through LISTEN cbd_feed.
// Only a real PostgreSQL delivers NOTIFY (PGlite does not across its socket), so this runs with DATABASE_URL.

const postgres = Boolean(process.env.DATABASE_URL);

describe.skipIf(!postgres)('live feed on an API instance without a projector (PostgreSQL LISTEN)', () => {
  let s: TestServer;
  let other: FastifyInstance;
  let otherUrl: string;

  beforeAll(async () => {
    s = await startTestServer();
    other = Fastify({ logger: false });
    registerErrorHandling(other);
    await other.register(auth, { sql: s.sql, secret: s.config.jwtSecret, expiresIn: '1h', loginRateLimitMax: 1000 });
    // Polling an hour apart: anything this instance delivers within the test was woken by NOTIFY.
    await other.register(live, { sql: s.sql, listen: true, hub: { pollMs: 3_600_000 } });
    await other.listen({ host: '127.0.0.1', port: 0 });
    const address = other.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    otherUrl = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await other?.close();
    await s?.close();
  });

  it("delivers changes committed by another process's projector", async () => {
    const client = await LiveClient.open(otherUrl, { token: await s.login('auditor') });
    await client.until((m) => m.length > 0, 'hello');
    const start = (client.messages[0] as HelloMessage).position;

    const token = await s.login('dispatcher.police');
    const reported = await s.call('POST', '/api/incidents', { token, body: { type: 'public_order', priority: 3, location: { lat: 27.1, lng: 115 } } });
    expect(reported.status).toBe(201);
    await s.call('POST', `/api/incidents/${reported.body.id}/triage`, { token, body: {} });
    await s.settle();

    await client.untilPosition(start + 2);
    expect(client.changes().map((c) => [c.position, c.eventType])).toEqual([
      [start + 1, 'IncidentReported'],
      [start + 2, 'IncidentTriaged'],
    ]);
    await client.close();
  });
});

describe.skipIf(postgres)('live feed LISTEN', () => {
  it.skip('needs DATABASE_URL: PGlite does not deliver NOTIFY across its socket', () => {});
});
