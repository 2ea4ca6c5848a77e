import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWebApiBody, uploadedBytes } from './http-body';
import type { WebApiAnswer } from './types';
import { FakeSlack } from './workspace';

/** The paths Slack itself serves: the Web API, response URLs and file upload URLs. */
const slackPaths = /^\/(api|response|upload)\//;

/**
 * Serves a FakeSlack over HTTP: the Web API at /api/<method>, response URLs at
 * /response/<id> and file upload URLs at /upload/<id>, so a separate Tandem
 * process can use it through SLACK_API_URL. Any other path goes to `otherRoutes`
 * when given (the sandbox's browser page).
 */
export function createFakeSlackServer(slack: () => FakeSlack, otherRoutes?: RequestListener): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://slack.local').pathname;
    if (otherRoutes && !slackPaths.test(path)) return otherRoutes(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('utf8');
      let answer: WebApiAnswer;
      const api = /^\/api\/([\w.]+)$/.exec(path);
      const response = /^\/response\/([\w-]+)$/.exec(path);
      const upload = /^\/upload\/([\w-]+)$/.exec(path);
      try {
        if (req.method === 'POST' && upload) {
          answer = slack().handleUpload(upload[1]!, await uploadedBytes(req.headers['content-type'] ?? null, bytes));
        } else if (req.method === 'POST' && api) {
          answer = slack().handle(api[1]!, parseWebApiBody(req.headers['content-type'] ?? null, raw), req.headers.authorization);
        } else if (req.method === 'POST' && response) {
          answer = slack().handleResponseUrl(response[1]!, raw ? JSON.parse(raw) : {});
        } else {
          answer = { status: 404, headers: {}, body: { ok: false, error: 'unknown_method' } };
        }
      } catch {
        answer = { status: 400, headers: {}, body: { ok: false, error: 'invalid_request' } };
      }
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      const json = JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
      res.end(json);
    });
  });
}

export interface SandboxSlackOptions<W extends FakeSlack> {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Builds the workspace once its origin is known; a plain FakeSlack by default. */
  workspace?: (origin: string) => W;
  /** Serves every path that is not Slack's own. */
  otherRoutes?: RequestListener;
}

export interface SandboxSlack<W extends FakeSlack> {
  slack: W;
  /** `http://127.0.0.1:<port>`; the Web API is at `${origin}/api/`. */
  origin: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * A stand-in Slack on a real port, for a Tandem that runs as its own process or in
 * the browser sandbox; integration tests and benchmarks use it the same way. It
 * listens on 127.0.0.1 only: the sandbox is for the person at this machine.
 */
export async function startSandboxSlack<W extends FakeSlack = FakeSlack>(options: SandboxSlackOptions<W> = {}): Promise<SandboxSlack<W>> {
  let slack: W | undefined;
  const server = createFakeSlackServer(() => slack!, options.otherRoutes);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const create = options.workspace ?? ((at: string) => new FakeSlack({ origin: at }) as W);
  slack = create(origin);
  return {
    slack,
    origin,
    server,
    close: () =>
      new Promise((resolve) => {
        // Open event streams would otherwise keep the server from closing.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
