import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that a test can cut, the way a database
 * restart or a network partition cuts Tandem off:
 * - `hold`: open connections are destroyed, new ones are accepted and never answered
 *   (a partition: packets go nowhere, the client only finds out from its own timers);
 * - `refuse`: open connections are destroyed and the port is closed (a stopped server: ECONNREFUSED).
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private mode: 'forward' | 'hold' = 'forward';
  port = 0;

  constructor(private readonly upstream: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  async cut(how: 'hold' | 'refuse'): Promise<void> {
    this.mode = 'hold';
    this.destroyAll();
    if (how === 'refuse') await this.closeServer();
  }

  /** Forwards again: held connections are dropped (their clients reconnect), the port listens again. */
  async restore(): Promise<void> {
    this.mode = 'forward';
    this.destroyAll();
    if (!this.server?.listening) await this.start();
  }

  async stop(): Promise<void> {
    this.destroyAll();
    await this.closeServer();
  }

  private accept(client: Socket) {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    if (this.mode === 'hold') return;
    const server = connect(this.upstream.port, this.upstream.host);
    this.sockets.add(server);
    server.on('close', () => {
      this.sockets.delete(server);
      client.destroy();
    });
    server.on('error', () => {});
    client.on('close', () => server.destroy());
    client.pipe(server);
    server.pipe(client);
  }

  private destroyAll() {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private closeServer(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
