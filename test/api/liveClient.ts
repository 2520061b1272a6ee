import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { ChangeMessage, LiveMessage } from '../../api/live/messages.ts';

export interface CloseInfo {
  code: number;
  reason: string;
}

/** A real `ws` client of GET /api/live that records every message it reads. */
export class LiveClient {
  readonly messages: LiveMessage[] = [];
  readonly closed: Promise<CloseInfo>;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.notify();
      });
    });
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as LiveMessage);
      this.notify();
    });
    ws.on('error', () => {});
  }

  static open(baseUrl: string, query: Record<string, string | number | boolean | undefined>): Promise<LiveClient> {
    const ws = new WebSocket(liveUrl(baseUrl, query));
    const client = new LiveClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused with ${response.statusCode}`)));
      ws.once('error', reject);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  changes(): ChangeMessage[] {
    return this.messages.filter((m): m is ChangeMessage => m.type === 'change');
  }

  /** The position of the last message that carried one (a change or a reset). */
  lastPosition(): number | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.type === 'change' || m.type === 'reset') return m.position;
    }
    return undefined;
  }

  /** Waits until `done` holds over what has been read; fails with `what` if the socket closes or time runs out. */
  until(done: (messages: LiveMessage[]) => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (done(this.messages)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done(this.messages)) finish();
        else if (this.ws.readyState === WebSocket.CLOSED) finish(new Error(`socket closed before ${what}`));
      };
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}; last position ${this.lastPosition()}`)), timeoutMs);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      this.listeners.add(check);
    });
  }

  untilPosition(position: number, timeoutMs?: number): Promise<void> {
    return this.until((messages) => messages.some((m) => (m.type === 'change' || m.type === 'reset') && m.position >= position), `position ${position}`, timeoutMs);
  }

  /** Stops reading from the TCP socket, as a client on a stalled network would. */
  pause(): void {
    (this.ws as unknown as { _socket: Socket })._socket.pause();
  }

  resume(): void {
    (this.ws as unknown as { _socket: Socket })._socket.resume();
  }

  close(): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000, 'test done');
    return this.closed;
  }
}

export function liveUrl(baseUrl: string, query: Record<string, string | number | boolean | undefined>): string {
  const url = new URL('/api/live', baseUrl.replace(/^http/, 'ws'));
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
  return url.toString();
}

/** Tries to open the feed and reports how the upgrade was refused (HTTP status and problem body). */
export function refusedUpgrade(baseUrl: string, query: Record<string, string | number | boolean | undefined>): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(liveUrl(baseUrl, query));
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', () => {});
  });
}

/** Retries `probe` until it returns a value other than undefined (read models catch up asynchronously). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
