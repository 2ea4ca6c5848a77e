import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer, type Socket } from 'node:net';
import { type ApiHandler, apiPrefix, sendJson } from '../api/router';
import type { Logger } from '../log';

export interface HttpRoutes {
  /** Bolt's request listener for /slack/events; absent in Socket Mode. */
  slack: RequestListener | undefined;
  api: ApiHandler;
  /** True when Tandem can serve: the database answers. */
  ready: () => Promise<boolean>;
  logger: Logger;
}

export const slackEventsPath = '/slack/events';

/** One HTTP server for Slack, the REST API and health checks. */
export function createHttpServer(routes: HttpRoutes): Server {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://tandem.local');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === slackEventsPath) {
      if (!routes.slack) return sendJson(res, 404, notFound('Tandem runs in Socket Mode; Slack reaches it over the socket, not this URL.'));
      if (method !== 'POST') {
        res.setHeader('allow', 'POST');
        return sendJson(res, 405, { error: { code: 'method_not_allowed', message: 'Slack posts to this URL.' } });
      }
      return routes.slack(req, res);
    }
    if (path === '/healthz' && (method === 'GET' || method === 'HEAD')) return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz' && (method === 'GET' || method === 'HEAD')) {
      routes
        .ready()
        .catch(() => false)
        .then((ready) =>
          sendJson(res, ready ? 200 : 503, ready ? { status: 'ready' } : { status: 'unavailable', reason: 'the database does not answer' }),
        );
      return;
    }
    if (path === apiPrefix || path.startsWith(`${apiPrefix}/`)) {
      routes.api(req, res, url).catch((error) => {
        routes.logger.error({ err: error }, 'api handler crashed');
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal_error', message: 'Tandem could not complete the request.' } });
      });
      return;
    }
    sendJson(res, 404, notFound(`Nothing is served at ${path}.`));
  });
  trackConnections(server);
  return server;
}

const notFound = (message: string) => ({ error: { code: 'not_found', message } });

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** What shutdown needs to know of each open connection: is a request in progress, has one been answered. */
interface Connection {
  /** Responses not yet finished. */
  active: Set<ServerResponse>;
  answered: number;
  acceptedAt: number;
}

const connectionsOf = new WeakMap<Server, Map<Socket, Connection>>();

function trackConnections(server: Server): void {
  const connections = new Map<Socket, Connection>();
  connectionsOf.set(server, connections);
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { active: new Set(), answered: 0, acceptedAt: performance.now() });
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (req, res) => {
    const connection = connections.get(req.socket);
    if (!connection) return;
    connection.active.add(res);
    // While shutting down, each answer tells the client this connection ends with it.
    if (!server.listening) res.shouldKeepAlive = false;
    res.once('close', () => {
      connection.active.delete(res);
      connection.answered += 1;
    });
  });
}

/** A connection accepted just before shutdown gets this long to send its first request. */
const firstRequestGraceMs = 2_000;

/**
 * Stops accepting connections and resolves when every open request has been
 * answered. A connection accepted but not yet sending (its request may be on the
 * way) gets its first request served; keep-alive connections are closed once
 * they are idle after an answer. Node's own `close()` would destroy the first
 * kind as idle, and that client would see ECONNRESET.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const connections = connectionsOf.get(server) ?? new Map<Socket, Connection>();
    for (const connection of connections.values()) {
      for (const res of connection.active) if (!res.headersSent) res.shouldKeepAlive = false;
    }
    const sweep = () => {
      const now = performance.now();
      for (const [socket, connection] of connections) {
        const idle = connection.active.size === 0 && (connection.answered > 0 || now - connection.acceptedAt > firstRequestGraceMs);
        if (idle) socket.destroy();
      }
    };
    const timer = setInterval(sweep, 25);
    // net.Server's close stops listening and waits for connections; http.Server's also destroys "idle" ones.
    NetServer.prototype.close.call(server, () => {
      clearInterval(timer);
      resolve();
    });
    sweep();
  });
}
