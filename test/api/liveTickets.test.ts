import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelloMessage } from '../../api/live/messages.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { LiveClient, refusedUpgrade } from './liveClient.ts';

// Opening the feed: browsers trade their bearer token for a one-minute ticket; scripts may pass the token.

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});

afterAll(async () => {
  await s?.close();
});

async function hello(client: LiveClient): Promise<HelloMessage> {
  await client.until((m) => m.length > 0, 'hello');
  return client.messages[0] as HelloMessage;
}

describe('live feed tickets', () => {
  it('issues a one-minute ticket to any logged-in user, and only to them', async () => {
    const refused = await s.call('POST', '/api/live/ticket');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);

    for (const username of ['dispatcher.fire', 'supervisor.urban', 'auditor', 'admin']) {
      const response = await s.call('POST', '/api/live/ticket', { token: await s.login(username) });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ ticket: expect.any(String), expiresIn: 60 });
    }
    const withBody = await s.call('POST', '/api/live/ticket', { token: await s.login('auditor'), body: {} });
    expect(withBody.status).toBe(201);
    const unknownField = await s.call('POST', '/api/live/ticket', { token: await s.login('auditor'), body: { forever: true } });
    expect(unknownField.status).toBe(400);
  });

  it('opens the feed with a ticket, and the ticket opens nothing else', async () => {
    const { body } = await s.call('POST', '/api/live/ticket', { token: await s.login('dispatcher.fire') });
    const client = await LiveClient.open(s.baseUrl, { ticket: body.ticket });
    expect((await hello(client)).user).toEqual({ id: expect.any(String), username: 'dispatcher.fire', role: 'dispatcher', agency: 'fire' });
    await client.close();

    const asBearer = await s.call('GET', '/api/units', { token: body.ticket });
    expect(asBearer.status).toBe(401);
    const ticketForTicket = await s.call('POST', '/api/live/ticket', { token: body.ticket });
    expect(ticketForTicket.status).toBe(401);
  });

  it('accepts a bearer token as ?token= for scripts', async () => {
    const client = await LiveClient.open(s.baseUrl, { token: await s.login('auditor') });
    expect((await hello(client)).user).toMatchObject({ username: 'auditor', role: 'auditor' });
    await client.close();
  });

  it('refuses the upgrade with 401 for a missing, invalid, expired or misused credential', async () => {
    const none = await refusedUpgrade(s.baseUrl, {});
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).detail).toMatch(/ticket/);

    const garbage = await refusedUpgrade(s.baseUrl, { ticket: 'not-a-jwt' });
    expect(garbage.status).toBe(401);

    const { body } = await s.call('POST', '/api/live/ticket', { token: await s.login('dispatcher.ems') });
    const tampered = await refusedUpgrade(s.baseUrl, { ticket: `${body.ticket.slice(0, -4)}AAAA` });
    expect(tampered.status).toBe(401);

    const claims = { sub: 'u-1', username: 'dispatcher.ems', role: 'dispatcher', agency: 'ems', purpose: 'live' } as const;
    const expired = s.app.jwt.sign(claims, { expiresIn: 60, clockTimestamp: Date.now() - 120_000 } as never);
    const late = await refusedUpgrade(s.baseUrl, { ticket: expired });
    expect(late.status).toBe(401);
    expect(JSON.parse(late.body).detail).toMatch(/expired/);

    // Each door takes only its own key.
    const bearerAsTicket = await refusedUpgrade(s.baseUrl, { ticket: await s.login('dispatcher.ems') });
    expect(bearerAsTicket.status).toBe(401);
    const ticketAsToken = await refusedUpgrade(s.baseUrl, { token: body.ticket });
    expect(ticketAsToken.status).toBe(401);

    const otherSecret = await refusedUpgrade(s.baseUrl, {
      ticket: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIiwiYWdlbmN5IjoicG9saWNlIiwicHVycG9zZSI6ImxpdmUifQ.c2lnbmF0dXJl',
    });
    expect(otherSecret.status).toBe(401);
  });

  it('refuses malformed query parameters with 400 before opening a socket', async () => {
    const { body } = await s.call('POST', '/api/live/ticket', { token: await s.login('admin') });
    expect((await refusedUpgrade(s.baseUrl, { ticket: body.ticket, since: 'yesterday' })).status).toBe(400);
    expect((await refusedUpgrade(s.baseUrl, { ticket: body.ticket, since: -1 })).status).toBe(400);
    expect((await refusedUpgrade(s.baseUrl, { ticket: body.ticket, colour: 'red' })).status).toBe(400);
  });
});
