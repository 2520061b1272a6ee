import type { Socket } from 'node:net';
import type { Sql } from 'postgres';
import type { WebSocket } from 'ws';
import { logHead, readChanges, readSnapshot, type FeedRow } from './feedQueries.ts';
import { CLOSE_CODES, type ChangeMessage, type HelloMessage, type LiveUser, type ResetMessage } from './messages.ts';
import { scopeFor, type Scope } from './scope.ts';
import { incidentShape as defaultIncidentShape, unitShape as defaultUnitShape } from '../read/shapes.ts';

type Row = Record<string, unknown>;

export interface HubLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The knobs that may change while the hub runs (operators tuning, tests provoking resets and slow clients). */
export interface HubTuning {
  /** Events read per query, by the hub and by each catching-up client. */
  pageSize?: number;
  /** A client further behind than this gets a snapshot (reset) instead of every missed change. */
  resetAfter?: number;
  /** A live client with more than this many bytes queued is cut with 4008. */
  maxBufferedBytes?: number;
  /** The safety net: how often the hub looks for new events even if nothing woke it. */
  pollMs?: number;
  /** WebSocket pings and `{type:'ping'}` messages; a client that misses two pings is dropped. */
  heartbeatMs?: number;
  /** How long a catching-up client may take to drain one page before it is cut with 4008. */
  catchUpStallMs?: number;
}

export interface HubOptions extends HubTuning {
  sql: Sql;
  log?: HubLogger;
  incidentShape?: (row: Row) => unknown;
  unitShape?: (row: Row) => unknown;
}

export interface AttachRequest {
  /** The last position the client applied; absent for "from now on". */
  since?: number;
  /** Start with a full snapshot whatever `since` says. */
  snapshot?: boolean;
}

const silent: HubLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** One feed message, encoded once for every client, and framed once for those written to directly. */
export class Outgoing {
  readonly payload: Buffer;
  private framed: Buffer | undefined;

  constructor(json: string) {
    this.payload = Buffer.from(json);
  }

  /** The whole WebSocket frame: FIN and the text opcode, the length (a server's frames are not masked), the bytes. */
  frame(): Buffer {
    if (this.framed) return this.framed;
    const length = this.payload.length;
    const head = length < 126 ? 2 : length < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(head + length);
    frame[0] = 0x81;
    if (head === 2) frame[1] = length;
    else if (head === 4) {
      frame[1] = 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    this.payload.copy(frame, head);
    return (this.framed = frame);
  }
}

/**
 * The TCP socket under a ws WebSocket, when whole frames may be written to it directly: open, no extension that
 * rewrites frames (permessage-deflate is off unless configured), and nothing queued in ws's own sender (it queues only
 * while compressing or reading a Blob, neither of which the feed does), so a frame written here cannot overtake one
 * of ws's. `_socket` and `_sender` are not public API but have been there since ws 1; without them, ws.send is used.
 */
export function rawSocket(ws: WebSocket): Socket | undefined {
  if (ws.readyState !== ws.OPEN || ws.extensions !== '') return undefined;
  const inner = ws as unknown as { _socket?: Socket; _sender?: { _queue?: unknown[] } };
  const socket = inner._socket;
  if (!socket || typeof socket.write !== 'function' || !socket.writable) return undefined;
  if (!Array.isArray(inner._sender?._queue) || inner._sender._queue.length > 0) return undefined;
  return socket;
}

class Connection {
  /** Every event up to here has been sent or deliberately skipped for this client. */
  cursor = 0;
  live = false;
  closed = false;
  alive = true;
  readonly scope: Scope;

  constructor(
    readonly ws: WebSocket,
    readonly user: LiveUser,
  ) {
    this.scope = scopeFor(user);
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }
}

/**
 * One per process: reads each new slice of event_log once and fans it out to every connected client.
 *
 * Ordering without gaps or duplicates rests on one rule: a client's cursor only moves forward, and a change
 * is sent to a client only when its position is above the cursor. A new client catches up on its own from
 * event_log and joins the shared fan-out only when its cursor has reached the hub's (checked synchronously,
 * so no hub delivery can slip between the check and the join).
 */
export class LiveHub {
  private readonly sql: Sql;
  private pageSize: number;
  private resetAfter: number;
  private maxBufferedBytes: number;
  private readonly pollMs: number;
  private readonly heartbeatMs: number;
  private catchUpStallMs: number;
  private readonly log: HubLogger;
  private readonly incidentShape: (row: Row) => unknown;
  private readonly unitShape: (row: Row) => unknown;

  private readonly connections = new Set<Connection>();
  private lastSeq = 0;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private started: Promise<void> | undefined;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly stopHooks: Array<() => unknown> = [];

  constructor(options: HubOptions) {
    this.sql = options.sql;
    this.pageSize = options.pageSize ?? 500;
    this.resetAfter = options.resetAfter ?? 5000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.pollMs = options.pollMs ?? 2000;
    this.heartbeatMs = options.heartbeatMs ?? 25_000;
    this.catchUpStallMs = options.catchUpStallMs ?? 30_000;
    this.log = options.log ?? silent;
    this.incidentShape = options.incidentShape ?? defaultIncidentShape;
    this.unitShape = options.unitShape ?? defaultUnitShape;
  }

  /** Changes limits for what happens from now on; timers keep the periods they were started with. */
  tune(tuning: Omit<HubTuning, 'pollMs' | 'heartbeatMs'>): void {
    this.pageSize = tuning.pageSize ?? this.pageSize;
    this.resetAfter = tuning.resetAfter ?? this.resetAfter;
    this.maxBufferedBytes = tuning.maxBufferedBytes ?? this.maxBufferedBytes;
    this.catchUpStallMs = tuning.catchUpStallMs ?? this.catchUpStallMs;
  }

  /** The last position the hub has fanned out. */
  get position(): number {
    return this.lastSeq;
  }

  get clientCount(): number {
    return this.connections.size;
  }

  start(): Promise<void> {
    this.started ??= (async () => {
      this.lastSeq = await logHead(this.sql);
      this.timers.push(setInterval(() => this.wake(), this.pollMs).unref());
      this.timers.push(setInterval(() => this.heartbeat(), this.heartbeatMs).unref());
    })();
    return this.started;
  }

  /** Registers something to undo when the hub stops (a LISTEN, an onCommitted subscription). */
  onStop(hook: () => unknown): void {
    this.stopHooks.push(hook);
  }

  /**
   * Something may have been committed (up to `toSeq`, when the waker knows). Cheap to call often. A projector in
   * this process hands over what it just committed (`changes`): when they follow on from what was sent last, they
   * go out at once, without reading them back.
   */
  wake(toSeq?: number, changes?: readonly FeedRow[]): void {
    if (this.stopped || !this.started) return;
    if (toSeq !== undefined && toSeq <= this.lastSeq) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (changes && changes.length > 0 && changes[0]!.position === this.lastSeq + 1) {
      // Page by page, as if read: a client too slow for one page is cut before the next is queued for it.
      for (let from = 0; from < changes.length; from += this.pageSize) this.deliver(changes.slice(from, from + this.pageSize));
      if (toSeq === undefined || toSeq <= this.lastSeq) return;
    }
    this.pumping = this.pump()
      .catch((error: unknown) => this.log.error({ err: error }, 'live feed: reading event_log failed; will retry on the next wake-up'))
      .finally(() => {
        this.pumping = undefined;
      });
  }

  /** Resolves once everything committed so far has been fanned out (for tests and orderly shutdown). */
  async settle(): Promise<void> {
    await this.start();
    this.wake();
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    do {
      this.pumpAgain = false;
      for (;;) {
        const rows = await readChanges(this.sql, this.lastSeq, this.pageSize);
        if (this.stopped) return;
        this.deliver(rows);
        if (rows.length < this.pageSize) break;
      }
    } while (this.pumpAgain && !this.stopped);
  }

  /** Fans a page of changes out to every live client. */
  private deliver(rows: readonly FeedRow[]): void {
    // Each change is encoded and framed once for every client, and each client gets the page's frames in one socket
    // write: 50 clients × 500 changes/s was 25k sends through ws (two stream writes each) and, corked, one writev per
    // client per page all the same. Each change stays its own WebSocket message.
    const pages = new Map<Connection, Outgoing[]>();
    for (const row of rows) {
      if (row.position <= this.lastSeq) continue;
      this.lastSeq = row.position;
      let change: Outgoing | undefined;
      let alert: Outgoing | undefined;
      for (const connection of this.connections) {
        if (!connection.live || connection.cursor >= row.position) continue;
        connection.cursor = row.position;
        if (!this.visible(connection, row)) continue;
        let page = pages.get(connection);
        if (!page) pages.set(connection, (page = []));
        change ??= new Outgoing(JSON.stringify(this.changeMessage(row)));
        page.push(change);
        // A status timer that fired is also an operational alert (issue 6), after the change that carries it.
        if (row.type === 'IncidentStatusOverdue') {
          alert ??= new Outgoing(JSON.stringify({ type: 'alert', kind: 'overdue', position: row.position, incidentId: row.incidentId, ...(row.data as Record<string, unknown>) }));
          page.push(alert);
        }
      }
    }
    for (const [connection, page] of pages) {
      if (!connection.open) continue;
      const socket = rawSocket(connection.ws);
      if (socket) socket.write(page.length === 1 ? page[0]!.frame() : Buffer.concat(page.map((m) => m.frame())));
      else for (const message of page) connection.ws.send(message.payload, { binary: false });
    }
    // Too slow is judged once the page has left: what a healthy client's socket took is no longer buffered.
    for (const connection of pages.keys()) this.cutIfSlow(connection);
  }

  private visible(connection: Connection, row: FeedRow): boolean {
    if (row.entity !== 'incident') return true;
    return connection.scope.seesIncident(row.incident?.agencies as string[] | undefined);
  }

  private changeMessage(row: FeedRow): ChangeMessage {
    return {
      type: 'change',
      position: row.position,
      entity: row.entity as ChangeMessage['entity'],
      id: row.entityId,
      incidentId: row.incidentId,
      eventType: row.type,
      data: row.data,
      occurredAt: row.occurredAt.toISOString(),
      actor: row.actor,
      ...(row.incident && { incident: this.incidentShape(row.incident) }),
      ...(row.unit && { unit: this.unitShape(row.unit) }),
    };
  }

  private send(connection: Connection, text: string | Buffer, cutIfSlow: boolean): void {
    if (!connection.open) return;
    // Bytes go as a text frame all the same: every message of the feed is JSON text.
    connection.ws.send(text, { binary: false });
    if (cutIfSlow) this.cutIfSlow(connection);
  }

  private cutIfSlow(connection: Connection): void {
    if (connection.open && connection.ws.bufferedAmount > this.maxBufferedBytes) this.cutSlow(connection);
  }

  private cutSlow(connection: Connection): void {
    this.log.warn(
      { user: connection.user, position: connection.cursor, bufferedBytes: connection.ws.bufferedAmount },
      'live feed: client too slow, disconnecting',
    );
    // The close frame queues behind the bytes already buffered, so a client that wakes up still reads every
    // change it was sent, then this code; ws destroys the socket if the close handshake never completes.
    this.drop(connection, CLOSE_CODES.tooSlow, `too slow; reconnect with since=${connection.cursor}`);
  }

  private drop(connection: Connection, code: number, reason: string): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.live = false;
    this.connections.delete(connection);
    try {
      connection.ws.close(code, reason);
    } catch {
      connection.ws.terminate();
    }
  }

  /**
   * Serves one WebSocket: hello, then a snapshot or the missed changes, then live changes.
   * Resolves when the client has joined the live fan-out (or was dropped on the way).
   */
  async attach(ws: WebSocket, user: LiveUser, request: AttachRequest = {}): Promise<void> {
    await this.start();
    const connection = new Connection(ws, user);
    if (this.stopped) {
      ws.close(CLOSE_CODES.goingAway, 'server shutting down');
      return;
    }
    this.connections.add(connection);
    ws.on('close', () => {
      connection.closed = true;
      connection.live = false;
      this.connections.delete(connection);
    });
    ws.on('pong', () => {
      connection.alive = true;
    });
    // A client's send errors (e.g. a reset connection) surface as 'error' then 'close'; without a listener
    // the EventEmitter would throw.
    ws.on('error', (error) => this.log.debug({ err: error }, 'live feed: socket error'));

    try {
      const head = await logHead(this.sql);
      const since = request.since;
      let reset: ResetMessage['reason'] | undefined;
      if (request.snapshot) reset = 'requested';
      else if (since !== undefined && since > head) reset = 'ahead_of_log';
      else if (since !== undefined && head - since > this.resetAfter) reset = 'too_far_behind';

      connection.cursor = since ?? head;
      const hello: HelloMessage = { type: 'hello', position: connection.cursor, head, user };
      this.send(connection, JSON.stringify(hello), false);

      if (reset) {
        const snapshot = await readSnapshot(this.sql);
        if (!connection.open) return;
        const message: ResetMessage = {
          type: 'reset',
          position: snapshot.position,
          reason: reset,
          incidents: snapshot.incidents.filter((r) => connection.scope.seesIncident(r.agencies as string[])).map(this.incidentShape),
          units: snapshot.units.map(this.unitShape),
        };
        connection.cursor = snapshot.position;
        this.send(connection, JSON.stringify(message), false);
      }
      await this.catchUp(connection);
    } catch (error) {
      this.log.error({ err: error }, 'live feed: could not serve a client');
      this.drop(connection, 1011, 'live feed unavailable; reconnect with since');
    }
  }

  private async catchUp(connection: Connection): Promise<void> {
    while (connection.open) {
      if (connection.cursor >= this.lastSeq) {
        connection.live = true;
        return;
      }
      const rows = await readChanges(this.sql, connection.cursor, this.pageSize);
      if (!connection.open) return;
      if (rows.length === 0) {
        // The log holds nothing past the cursor though the hub has gone further: it was rebuilt under us.
        // Joining the fan-out is the only way forward; the hub's next rows are above the cursor.
        connection.live = true;
        return;
      }
      for (const row of rows) {
        if (row.position <= connection.cursor) continue;
        connection.cursor = row.position;
        if (this.visible(connection, row)) this.send(connection, JSON.stringify(this.changeMessage(row)), false);
      }
      if (!(await this.drained(connection))) {
        this.cutSlow(connection);
        return;
      }
    }
  }

  /** Waits (this client only) until its queue is below the limit, so catching up never buffers the whole log. */
  private async drained(connection: Connection): Promise<boolean> {
    const deadline = Date.now() + this.catchUpStallMs;
    while (connection.open && connection.ws.bufferedAmount > this.maxBufferedBytes) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  private heartbeat(): void {
    for (const connection of this.connections) {
      if (!connection.alive) {
        this.log.info({ user: connection.user }, 'live feed: client stopped answering pings');
        connection.closed = true;
        this.connections.delete(connection);
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      if (!connection.open) continue;
      connection.ws.ping();
      if (connection.live) this.send(connection, JSON.stringify({ type: 'ping', position: connection.cursor }), true);
    }
  }

  /** Stops reading and closes every client with 1001 and the position to resume from. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const hook of this.stopHooks.splice(0)) {
      try {
        await hook();
      } catch (error) {
        this.log.warn({ err: error }, 'live feed: cleanup step failed');
      }
    }
    for (const connection of [...this.connections]) {
      this.drop(connection, CLOSE_CODES.goingAway, `server shutting down; reconnect with since=${connection.cursor}`);
    }
    await this.pumping;
  }
}
