import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  return createServer((req, res) => {
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

/**
 * Stops accepting connections and resolves when every open request has been
 * answered. Keep-alive connections are closed as soon as they fall idle.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
