import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer, type Socket } from 'node:net';
import { type ApiHandler, apiPrefix, sendJson } from '../api/router';
import type { Logger } from '../log';

export interface HttpRoutes {
  /** Bolt's request listener for /slack/events; absent in Socket Mode. */
  slack: RequestListener | undefined;
  api: ApiHandler;
  /** The GitHub App's webhooks; absent when the integration is off. */
  github?: RequestListener;
  /** True when Tandem can serve: the database answers. */
  ready: () => Promise<boolean>;
  logger: Logger;
}

export const slackEventsPath = '/slack/events';
export const githubWebhooksPath = '/github/webhooks';

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
      // Whatever a Slack request holds is answered by the receiver; this only keeps a bug there from ending the process.
      const slack = routes.slack;
      Promise.resolve()
        .then(() => slack(req, res))
        .catch((error) => {
          routes.logger.error({ err: error }, 'slack receiver crashed');
          if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal_error', message: 'Tandem could not complete the request.' } });
        });
      return;
    }
    if (path === githubWebhooksPath) {
      if (!routes.github) return sendJson(res, 404, notFound('The GitHub App integration is off: set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET.'));
      return routes.github(req, res);
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

/** What shutdown needs to know of each open connection: is a request in progress, is another on its way. */
interface Connection {
  /** Responses not yet finished. */
  active: Set<ServerResponse>;
  answered: number;
  /** Bytes read when the last answer finished: more since then is the next request arriving. */
  bytesAtAnswer: number;
}

interface Tracked {
  connections: Map<Socket, Connection>;
  /** Connections accepted so far, to tell when the listen backlog is empty. */
  accepted: number;
}

const tracked = new WeakMap<Server, Tracked>();

function trackConnections(server: Server): void {
  const connections = new Map<Socket, Connection>();
  const state: Tracked = { connections, accepted: 0 };
  tracked.set(server, state);
  server.on('connection', (socket: Socket) => {
    state.accepted += 1;
    connections.set(socket, { active: new Set(), answered: 0, bytesAtAnswer: 0 });
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
      connection.bytesAtAnswer = req.socket.bytesRead;
    });
  });
}

/**
 * Connections the kernel completed just before shutdown may still wait in the
 * listen backlog (more so on a busy event loop); closing the listener then would
 * reset them. So the listener stays open until a window passes with nothing new
 * accepted, for at most `maxBacklogDrainMs`.
 */
const backlogWindowMs = 50;
const maxBacklogDrainMs = 1_000;

async function drainAcceptBacklog(state: Tracked): Promise<void> {
  for (let waited = 0; waited < maxBacklogDrainMs; waited += backlogWindowMs) {
    const before = state.accepted;
    await new Promise((resolve) => setTimeout(resolve, backlogWindowMs));
    // setImmediate runs after the poll phase that follows the timer, where libuv accepts what is pending.
    await new Promise((resolve) => setImmediate(resolve));
    if (state.accepted === before) return;
  }
}

/** A connection that has not yet sent its (first or next) request gets this long to start. */
const nextRequestGraceMs = 2_000;

/**
 * Stops accepting connections and resolves when every open request has been
 * answered. A connection accepted but not yet sending (its request may be on the
 * way) gets that request served; keep-alive connections are closed once idle
 * after an answer. Node's own `close()` would destroy the first kind as idle, and
 * that client would see ECONNRESET.
 */
export async function closeServer(server: Server): Promise<void> {
  const state = tracked.get(server);
  if (!server.listening || !state) return;
  const { connections } = state;
  await drainAcceptBacklog(state);
  const closingSince = performance.now();
  return new Promise((resolve) => {
    const sweep = () => {
      const graceOver = performance.now() - closingSince > nextRequestGraceMs;
      for (const [socket, connection] of connections) {
        if (connection.active.size > 0) continue;
        const quiet = socket.bytesRead === connection.bytesAtAnswer;
        // end(), not destroy(): an answer just written may still be in the socket's buffer.
        if ((connection.answered > 0 && quiet) || graceOver) socket.end();
      }
    };
    const timer = setInterval(sweep, 25);
    // net.Server's close stops listening and waits for connections; http.Server's also destroys "idle" ones.
    NetServer.prototype.close.call(server, () => {
      clearInterval(timer);
      resolve();
    });
    for (const connection of connections.values()) {
      for (const res of connection.active) if (!res.headersSent) res.shouldKeepAlive = false;
    }
    sweep();
  });
}
