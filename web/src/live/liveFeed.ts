import { api, ApiError } from '../api/client.ts';
import type { LiveMessage } from '../api/types.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveFeedHandlers {
  onMessage(message: LiveMessage): void;
  onStatus?(status: LiveStatus): void;
  /** Called for every hello; `resumed` is false for the first connection of this feed. */
  onHello?(position: number, resumed: boolean): void;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 15_000;

/**
 * One WebSocket to /api/live that survives drops. Every (re)connection asks for a fresh ticket, since
 * tickets are single-use and short-lived, and passes the last position seen so the server replays
 * exactly what was missed (or sends a reset when it can't).
 */
export class LiveFeed {
  private ws: WebSocket | null = null;
  private stopped = false;
  private backoff = MIN_BACKOFF_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private hadHello = false;
  private _status: LiveStatus = 'connecting';
  position: number | null = null;

  constructor(private readonly handlers: LiveFeedHandlers) {}

  get status(): LiveStatus {
    return this._status;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'bye');
    this.setStatus('offline');
  }

  /** Drops the socket as a network failure would; tests and the "reconnect now" button use it. */
  drop(): void {
    this.ws?.close(4000, 'client drop');
  }

  private setStatus(status: LiveStatus): void {
    if (this._status === status) return;
    this._status = status;
    this.handlers.onStatus?.(status);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setStatus(this.hadHello ? 'reconnecting' : 'connecting');
    let ticket: string;
    try {
      ticket = (await api.command<{ ticket: string }>('/api/live/ticket', {})).ticket;
    } catch (e) {
      // A 401 means the session is gone: the app logs out, and there is nothing to reconnect to.
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        this.setStatus('offline');
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const params = new URLSearchParams({ ticket });
    // The first connection starts from a snapshot (a reset message); later ones resume after what we applied.
    if (this.position !== null) params.set('since', String(this.position));
    else params.set('snapshot', 'true');
    const ws = new WebSocket(`${proto}//${location.host}/api/live?${params}`);
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let msg: LiveMessage;
      try {
        msg = JSON.parse(String(ev.data)) as LiveMessage;
      } catch {
        return;
      }
      if (msg.type === 'hello') {
        const resumed = this.hadHello;
        this.hadHello = true;
        this.backoff = MIN_BACKOFF_MS;
        // A snapshot follows on first contact and sets the position; on resume hello echoes our `since`.
        this.setStatus('live');
        this.handlers.onHello?.(msg.position, resumed);
        return;
      }
      if (msg.type === 'reset') this.position = msg.position;
      else if ((msg.type === 'change' || msg.type === 'ping') && typeof msg.position === 'number') this.position = Math.max(this.position ?? 0, msg.position);
      if (msg.type === 'ping') return;
      this.handlers.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped) this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows and schedules the retry */
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setStatus(this.hadHello ? 'reconnecting' : 'connecting');
    // Jitter spreads a whole control room reconnecting after a server restart.
    const delay = this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }
}
