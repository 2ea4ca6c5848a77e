import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { match } from 'path-to-regexp';
import type { Database } from '../db/client';
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
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT';
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

export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The /api/v1 request pipeline: route, authenticate, authorise, read JSON, run once, answer. */
export function createApiHandler(options: ApiOptions): ApiHandler {
  const routes: CompiledRoute[] = options.routes.map((route) => {
    const matcher = match<Record<string, string>>(route.path, { decode: decodeURIComponent });
    return {
      ...route,
      matches: (path) => {
        const result = matcher(path);
        return result ? result.params : undefined;
      },
    };
  });

  return async (req, res) => {
    const requestId = headerValue(req, 'x-request-id') ?? randomUUID();
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://tandem.local');
    const path = url.pathname.slice(apiPrefix.length) || '/';
    try {
      const candidates = routes
        .map((route) => ({ route, params: route.matches(path) }))
        .filter((candidate): candidate is { route: CompiledRoute; params: Record<string, string> } => !!candidate.params);
      if (candidates.length === 0) throw new ApiError(404, 'not_found', `There is no ${url.pathname} in the Tandem API.`);
      const found = candidates.find((candidate) => candidate.route.method === req.method);
      if (!found) {
        res.setHeader('allow', [...new Set(candidates.map((candidate) => candidate.route.method))].join(', '));
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
      const rawBody = req.method === 'GET' ? '' : await readBody(req);
      const body = parseJson(rawBody);
      const signal = requestSignal(req, res, options.shutdown);
      const run = async (): Promise<StoredResponse> =>
        found.route.handle({ params: found.params, query: url.searchParams, body, token, signal });
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
      const result = await run();
      return sendJson(res, result.status, result.body);
    } catch (error) {
      const envelope = toErrorEnvelope(error);
      if (envelope.status >= 500) {
        options.logger.error({ err: error, requestId, method: req.method, path: url.pathname }, 'api request failed');
      }
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

async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
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

function requestSignal(req: IncomingMessage, res: ServerResponse, shutdown: AbortSignal): AbortSignal {
  const clientGone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) clientGone.abort();
  });
  req.on('aborted', () => clientGone.abort());
  return AbortSignal.any([clientGone.signal, shutdown]);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
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
