import net from 'node:net';

/**
 * A TCP pass-through on 127.0.0.1 between the API and PostgreSQL that a test can cut (refuse new connections and
 * reset the open ones, as a database host going away does) and restore on the same port.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.port }, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** From now on connections are refused, and the open ones are reset. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const s of this.sockets) s.resetAndDestroy();
    await closed;
  }

  /** Accepts connections again, on the same port. */
  restore(): Promise<void> {
    return this.start();
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  close(): Promise<void> {
    return this.cut();
  }
}
