import net from 'node:net';
import postgres from 'postgres';
import type { TestDatabase } from './db.ts';

/**
 * A pool on the test's PostgreSQL database whose connections go through sockets the test can break; every client
 * made from its options (the projectors' lock and transaction connections) breaks the same way.
 * `breakOnNextWrite(port, how)` acts on the connection on that local port right after its next statement leaves, so
 * the statement is in flight: 'reset' fails the connection (as when the network or the server drops it mid-query);
 * 'silence' stops taking in what the server sends (as when the network loses the answer and nobody says so).
 */
export function poolWithBreakableSockets(db: TestDatabase, options: postgres.Options<{}> = {}) {
  const url = new URL(db.url);
  const sockets = new Set<net.Socket>();
  let breakNext: { how: 'reset' | 'silence'; afterWrites: number } | undefined;
  const sql = postgres(db.url, {
    onnotice: () => {},
    ...options,
    // Not in the driver's types, but an option it documents and keeps: it makes each connection's socket.
    ...{
      socket: () => {
        const socket = net.connect(Number(url.port || 5432), url.hostname);
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        if (breakNext) {
          const { how, afterWrites } = breakNext;
          breakNext = undefined;
          breakAfter(socket, how, afterWrites);
        }
        return socket;
      },
    },
  } as postgres.Options<{}>);
  const breakOnNextWrite = (localPort: number, how: 'reset' | 'silence') => {
    const socket = [...sockets].find((s) => s.localPort === localPort);
    if (!socket) throw new Error(`no socket of this pool on local port ${localPort}`);
    breakAfter(socket, how, 1);
  };
  /** The next connection the pool opens breaks right after its `afterWrites`-th write (the first is its start-up). */
  const breakNextConnection = (how: 'reset' | 'silence', afterWrites: number) => {
    breakNext = { how, afterWrites };
  };
  return { sql, breakOnNextWrite, breakNextConnection };
}

function breakAfter(socket: net.Socket, how: 'reset' | 'silence', writes: number): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let left = writes;
  socket.write = ((...args: unknown[]) => {
    const sent = write(...args);
    if (--left > 0) return sent;
    socket.write = write as typeof socket.write;
    if (how === 'silence') socket.pause();
    else process.nextTick(() => socket.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
    return sent;
  }) as typeof socket.write;
}
