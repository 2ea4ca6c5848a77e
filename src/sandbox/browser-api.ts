import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import path from 'node:path';
import { z } from 'zod';
import { sendJson } from '../api/router';
import type { Catalog } from '../catalog';
import { BodyTooLarge, readBody } from '../http/body';
import type { Logger } from '../log';
import { projectFile } from '../paths';
import { requirePerson, SandboxRequestError, type WorkspaceActions } from './actions';
import { demoStart } from './demo';
import type { LiveWorkspace } from './live-workspace';
import type { AppManifest } from './manifest';
import { personView } from './person-view';

/**
 * The browser side of the stand-in Slack: the page itself and the small JSON API
 * it uses. `GET /sandbox/state?as=U…` is what one person sees (the demo's first person without `as`), `GET
 * /sandbox/changes` is an event stream that says when to fetch it again, and each
 * `POST /sandbox/…` is something a person does, handed to WorkspaceActions, which
 * delivers it to Tandem signed as Slack would. Bodies are JSON, checked here.
 */

const pageDirectory = projectFile('src/sandbox/page');
const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};
/** The page runs only its own scripts and styles, so text from messages can never become code. */
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const maxBodyBytes = 64 * 1024;

const personId = z.string().regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user ID such as U0ALEX');
const id = z.string().min(1).max(100);
const requests = {
  send: z.strictObject({ as: personId, channel: id, text: z.string().trim().min(1, 'must not be empty').max(4000) }),
  action: z.strictObject({
    as: personId,
    actionId: z.string().min(1).max(255),
    target: z.union([
      z.strictObject({ channel: id, ts: id }),
      z.strictObject({ ephemeralTs: id }),
      z.strictObject({ viewId: id }),
      z.strictObject({ home: z.literal(true) }),
    ]),
  }),
  shortcut: z.strictObject({ as: personId, channel: id, ts: id, callbackId: z.string().min(1).max(255) }),
  submit: z.strictObject({
    as: personId,
    viewId: id,
    values: z.record(z.string().max(255), z.union([z.string().max(3000), z.array(z.string().max(255)).max(100), z.null()])),
  }),
  close: z.strictObject({ as: personId, viewId: id }),
  home: z.strictObject({ as: personId }),
  load: z.strictObject({ enabled: z.boolean() }),
};

export interface BrowserApiOptions {
  slack: LiveWorkspace;
  actions: WorkspaceActions;
  manifest: AppManifest;
  catalog: Catalog;
  logger: Logger;
}

export function createBrowserApi(options: BrowserApiOptions): RequestListener {
  const { slack, actions, manifest, catalog, logger } = options;
  const pageFiles = new Set(readdirSync(pageDirectory).filter((file) => path.extname(file) in contentTypes));

  const posts: Record<string, (body: unknown) => Promise<unknown>> = {
    '/sandbox/send': async (body) => {
      const { as, channel, text } = requests.send.parse(body);
      return actions.send(as, channel, text);
    },
    '/sandbox/actions': async (body) => {
      const { as, actionId, target } = requests.action.parse(body);
      return actions.click(as, target, actionId);
    },
    '/sandbox/shortcuts': async (body) => {
      const { as, channel, ts, callbackId } = requests.shortcut.parse(body);
      return actions.useShortcut(as, channel, ts, callbackId);
    },
    '/sandbox/views/submit': async (body) => {
      const { as, viewId, values } = requests.submit.parse(body);
      return actions.submitView(as, viewId, Object.fromEntries(Object.entries(values).map(([block, value]) => [block, value ?? undefined])));
    },
    '/sandbox/views/close': async (body) => {
      const { as, viewId } = requests.close.parse(body);
      actions.closeView(as, viewId);
      return {};
    },
    '/sandbox/home': async (body) => actions.openHome(requests.home.parse(body).as),
    '/sandbox/load': async (body) => {
      slack.simulateLoad(requests.load.parse(body).enabled);
      return slack.loadState;
    },
  };

  const get = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const route = url.pathname;
    if (route === '/') return sendPageFile(res, 'index.html');
    const file = /^\/page\/([\w.-]+)$/.exec(route)?.[1];
    if (file && pageFiles.has(file)) return sendPageFile(res, file);
    if (route === '/sandbox/state') {
      const person = personId.parse(url.searchParams.get('as') ?? demoStart.person);
      requirePerson(slack, person);
      return sendJson(res, 200, personView(slack, person, manifest, catalog));
    }
    if (route === '/sandbox/changes') return streamChanges(req, res, slack);
    // Permalinks Tandem asks for (chat.getPermalink) point here; they open the channel in the page.
    const permalink = /^\/archives\/([A-Z0-9]+)\/p\d+$/.exec(route);
    if (permalink) {
      res.writeHead(302, { location: `/#${permalink[1]}` });
      return res.end();
    }
    throw new SandboxRequestError(404, 'not_found', `Nothing is served at ${route}.`);
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const handle = async () => {
      if (req.method === 'GET' || req.method === 'HEAD') return get(req, res, url);
      const post = posts[url.pathname];
      if (req.method !== 'POST' || !post) throw new SandboxRequestError(404, 'not_found', `Nothing answers ${req.method} ${url.pathname}.`);
      sendJson(res, 200, await post(await readJson(req)));
    };
    handle().catch((error: unknown) => {
      if (error instanceof SandboxRequestError) return sendJson(res, error.status, { error: { code: error.code, message: error.message } });
      if (error instanceof z.ZodError) {
        const details = error.issues.map((issue) => ({ field: issue.path.join('.') || '(body)', message: issue.message }));
        return sendJson(res, 400, { error: { code: 'invalid_request', message: 'The request is not valid.', details } });
      }
      logger.error({ err: error, path: url.pathname }, 'sandbox request failed');
      if (!res.headersSent) sendJson(res, 502, { error: { code: 'tandem_unreachable', message: 'The sandbox could not deliver that to Tandem.' } });
    });
  };
}

/**
 * The page's requests are JSON; demanding the content type also keeps other web
 * pages from posting here, since a cross-site JSON request needs a CORS preflight
 * this server never grants.
 */
async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!req.headers['content-type']?.startsWith('application/json')) {
    throw new SandboxRequestError(415, 'unsupported_media_type', 'Send JSON with Content-Type: application/json.');
  }
  let body: string;
  try {
    body = await readBody(req, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLarge) throw new SandboxRequestError(413, 'payload_too_large', `Request bodies are limited to ${maxBodyBytes} bytes.`);
    throw error;
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new SandboxRequestError(400, 'malformed_json', 'The request body is not valid JSON.');
  }
}

function sendPageFile(res: ServerResponse, file: string) {
  const body = readFileSync(path.join(pageDirectory, file));
  res.writeHead(200, {
    'content-type': contentTypes[path.extname(file)]!,
    'content-length': body.length,
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Server-sent events: one `changed` event per burst of workspace changes; the page then fetches its state. */
function streamChanges(req: IncomingMessage, res: ServerResponse, slack: LiveWorkspace) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write('retry: 1000\n\n');
  const unsubscribe = slack.subscribe(() => res.write('event: changed\ndata: {}\n\n'));
  req.on('close', unsubscribe);
}
