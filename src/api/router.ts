import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { match } from 'path-to-regexp';
import type { Database } from '../db/client';
import { hasNul } from '../fields';
import { BodyTooLarge, readBody } from '../http/body';
import type { Logger } from '../log';
import type { Clock } from '../time';
import { ApiError, toErrorEnvelope } from './errors';
import { requestFingerprint, runOnce, type StoredResponse } from './idempotency';
import type { ApiScope, ApiToken, TokenVerifier } from './tokens';

export const apiPrefix = '/api/v1';
export const maxBodyBytes = 1024 * 1024;

export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  token: ApiToken;
  /** Aborted when the client goes away or the server shuts down; long-polls stop waiting. */
  signal: AbortSignal;
}

export interface ApiResult {
  status: number;
  body: unknown;
  /** A text answer (`text/markdown`): `body` is sent as it is, not as JSON. */
  contentType?: string;
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  /** Relative to /api/v1, with `:name` parameters. */
  path: string;
  /** Any one of these scopes grants access. */
  scopes: ApiScope[];
  handle(request: ApiRequest): Promise<ApiResult>;
}

export interface ApiOptions {
  routes: ApiRoute[];
  tokens: TokenVerifier;
  db: Database;
  clock: Clock;
  logger: Logger;
  shutdown: AbortSignal;
}

type CompiledRoute = ApiRoute & { matches: (path: string) => Record<string, string> | undefined };

export type ApiHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

/** The /api/v1 request pipeline: route, authenticate, authorise, read JSON, run once, answer. */
export function createApiHandler(options: ApiOptions): ApiHandler {
  const routes: CompiledRoute[] = options.routes.map((route) => {
    const matcher = match<Record<string, string>>(route.path, { decode: decodePathParameter });
    return {
      ...route,
      matches: (path) => {
        const result = matcher(path);
        return result ? result.params : undefined;
      },
    };
  });

  const shutdownWaiters = new ShutdownWaiters(options.shutdown);

  return async (req, res, url) => {
    const requestId = headerValue(req, 'x-request-id') ?? randomUUID();
    res.setHeader('x-request-id', requestId);
    const path = url.pathname.slice(apiPrefix.length) || '/';
    try {
      const found = findRoute(routes, req.method ?? 'GET', path);
      if (!found) throw new ApiError(404, 'not_found', `There is no ${url.pathname} in the Tandem API.`);
      if ('allowed' in found) {
        res.setHeader('allow', found.allowed.join(', '));
        throw new ApiError(405, 'method_not_allowed', `${req.method} is not supported on ${url.pathname}.`);
      }
      const token = await authenticate(req, options.tokens);
      if (!found.route.scopes.some((scope) => token.scopes.includes(scope))) {
        throw new ApiError(
          403,
          'insufficient_scope',
          `This token lacks the scope for ${req.method} ${url.pathname}; it needs ${found.route.scopes.join(' or ')}.`,
          { required: found.route.scopes, granted: token.scopes },
        );
      }
      const rawBody = req.method === 'GET' ? '' : await readApiBody(req);
      const body = parseJson(rawBody);
      let signal: AbortSignal | undefined;
      const request: ApiRequest = {
        params: found.params,
        query: url.searchParams,
        body,
        token,
        // Built on first use: only long-polls need it, and the hot path should not pay for it.
        get signal() {
          signal ??= requestSignal(res, shutdownWaiters);
          return signal;
        },
      };
      const run = async (): Promise<StoredResponse> => found.route.handle(request);
      const idempotencyKey = headerValue(req, 'idempotency-key');
      if (idempotencyKey !== undefined && req.method === 'POST') {
        if (idempotencyKey.length === 0 || idempotencyKey.length > 255) {
          throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 characters.');
        }
        const result = await runOnce(
          options.db,
          options.clock,
          { tokenId: token.id, key: idempotencyKey, fingerprint: requestFingerprint(req.method, path, rawBody) },
          run,
        );
        if (result.replayed) res.setHeader('idempotent-replayed', 'true');
        return sendJson(res, result.status, result.body);
      }
      const result: ApiResult = await found.route.handle(request);
      if (result.contentType && typeof result.body === 'string') return sendText(res, result.status, result.contentType, result.body);
      return sendJson(res, result.status, result.body);
    } catch (error) {
      const envelope = toErrorEnvelope(error);
      if (envelope.status >= 500) {
        options.logger.error({ err: error, requestId, method: req.method, path: url.pathname }, 'api request failed');
      }
      for (const [name, value] of Object.entries(envelope.headers ?? {})) res.setHeader(name, value);
      if (envelope.status === 401) res.setHeader('www-authenticate', 'Bearer realm="tandem"');
      if (envelope.status === 413) {
        // The rest of an oversized body is discarded, then the connection closes.
        res.setHeader('connection', 'close');
        req.resume();
      }
      if (!res.headersSent) sendJson(res, envelope.status, envelope.body);
    }
  };
}

/**
 * A path parameter as its text. Broken percent-encoding (`%E0%A4%A`) is the caller's
 * mistake, and a NUL (`%00`) cannot be looked up in PostgreSQL: both are a 400.
 */
function decodePathParameter(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new ApiError(400, 'malformed_path', `The path segment "${raw}" is not valid percent-encoding (UTF-8, such as %C3%A9 for é).`);
  }
  if (hasNul(decoded)) throw new ApiError(400, 'malformed_path', 'The path must not contain a NUL character (%00).');
  return decoded;
}

/** The route for this method and path, or the methods the path allows, or nothing. */
function findRoute(
  routes: CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; params: Record<string, string> } | { allowed: string[] } | undefined {
  const allowed: string[] = [];
  for (const route of routes) {
    const params = route.matches(path);
    if (!params) continue;
    if (route.method === method) return { route, params };
    if (!allowed.includes(route.method)) allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : undefined;
}

async function authenticate(req: IncomingMessage, tokens: TokenVerifier): Promise<ApiToken> {
  const header = headerValue(req, 'authorization');
  const presented = header && /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (!presented) {
    throw new ApiError(401, 'unauthorized', 'Send an API token as "Authorization: Bearer <token>". Create one with `npm run tandem -- token create`.');
  }
  const token = await tokens.verify(presented);
  if (!token) throw new ApiError(401, 'unauthorized', 'That API token is not valid or was revoked.');
  return token;
}

async function readApiBody(req: IncomingMessage): Promise<string> {
  try {
    return await readBody(req, maxBodyBytes);
  } catch (error) {
    throw error instanceof BodyTooLarge ? tooLarge() : error;
  }
}

const tooLarge = () => new ApiError(413, 'payload_too_large', `Request bodies are limited to ${maxBodyBytes} bytes (1 MiB).`);

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new ApiError(400, 'malformed_json', `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * One listener on the shared shutdown signal for all long-polls, instead of one each:
 * any number may wait at once without tripping Node's listener-leak warning, and a
 * finished request leaves nothing behind.
 */
class ShutdownWaiters {
  private readonly waiting = new Set<AbortController>();

  constructor(private readonly shutdown: AbortSignal) {
    const abortAll = () => {
      for (const controller of this.waiting) controller.abort();
      this.waiting.clear();
    };
    shutdown.addEventListener('abort', abortAll, { once: true });
  }

  add(controller: AbortController): void {
    if (this.shutdown.aborted) controller.abort();
    else this.waiting.add(controller);
  }

  delete(controller: AbortController): void {
    this.waiting.delete(controller);
  }
}

/** Aborted when the client leaves before the answer, or when the server shuts down. */
function requestSignal(res: ServerResponse, shutdown: ShutdownWaiters): AbortSignal {
  const controller = new AbortController();
  shutdown.add(controller);
  res.on('close', () => {
    shutdown.delete(controller);
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': `${contentType}; charset=utf-8`, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(json);
}
