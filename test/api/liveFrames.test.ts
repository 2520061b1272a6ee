import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Outgoing, rawSocket } from '../../api/live/hub.ts';

// The live feed writes each page of changes to a client as whole WebSocket frames in one socket write, bypassing
// ws.send; a real ws client must read them back as the same messages, whatever their lengths.
describe('live feed frames written directly to the socket', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    for (const client of server?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  async function pair(options: ConstructorParameters<typeof WebSocketServer>[0] = {}) {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: true });
    await once(client, 'open');
    const [serverSide] = await accepted;
    return { serverSide, client };
  }

  it('are read back as the same messages, lengths of every header form included, in order', async () => {
    const { serverSide, client } = await pair();
    // 125 and 126 straddle the one-byte length, 65,535 and 65,536 the two-byte one.
    const lengths = [0, 1, 125, 126, 1000, 65_535, 65_536, 200_000];
    // Byte lengths: ASCII, then one text of three-byte characters.
    const texts = [...lengths.map((n) => 'x'.repeat(n)), '吉安'.repeat(20_000)];
    expect(texts.map((t) => Buffer.byteLength(t))).toEqual([...lengths, 120_000]);
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data, isBinary) => {
        expect(isBinary).toBe(false);
        received.push(data.toString());
        if (received.length === texts.length * 2) resolve();
      }),
    );
    const messages = texts.map((t) => new Outgoing(t));
    const socket = rawSocket(serverSide);
    expect(socket).toBeDefined();
    // One write of all the frames, then each frame alone (the same frame object twice: it is framed once).
    socket!.write(Buffer.concat(messages.map((m) => m.frame())));
    for (const m of messages) socket!.write(m.frame());
    await all;
    expect(received).toEqual([...texts, ...texts]);
    expect(messages[3]!.frame()).toBe(messages[3]!.frame());
  });

  it('are not used when an extension rewrites frames (permessage-deflate): the feed falls back to ws.send', async () => {
    const { serverSide } = await pair({ perMessageDeflate: true });
    expect(serverSide.extensions).toContain('permessage-deflate');
    expect(rawSocket(serverSide)).toBeUndefined();
  });

  it('are not used on a closing socket', async () => {
    const { serverSide, client } = await pair();
    expect(rawSocket(serverSide)).toBeDefined();
    serverSide.close(1000, 'bye');
    expect(rawSocket(serverSide)).toBeUndefined();
    await once(client, 'close');
  });
});
