import type { z } from 'zod';
import { isDatabaseUnavailable } from '../db/unavailable';
import { type ErrorCode, type ErrorKind, invalid, TandemError } from '../errors';

/** The codes of the REST API's own protocol errors; domain codes are ErrorCode. */
export type ApiErrorCode =
  | 'unauthorized'
  | 'insufficient_scope'
  | 'not_found'
  | 'method_not_allowed'
  | 'malformed_path'
  | 'malformed_json'
  | 'payload_too_large'
  | 'invalid_idempotency_key'
  | 'idempotency_key_reused'
  | 'request_in_progress';

/** Protocol errors of the REST API itself (auth, framing); domain errors are TandemErrors. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The one place a domain error kind becomes an HTTP status. */
const statusOfKind: Record<ErrorKind, number> = {
  invalid: 422,
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  unavailable: 503,
};

/** Every code the JSON error envelope can carry. */
export type EnvelopeCode = ErrorCode | ApiErrorCode | 'database_unavailable' | 'internal_error';

export interface ErrorEnvelope {
  status: number;
  /** Headers the answer carries, e.g. Retry-After on a 503. */
  headers?: Record<string, string>;
  body: { error: { code: EnvelopeCode; message: string; details?: unknown } };
}

/** Long enough for a database restart or failover to finish, short enough for a pipeline to retry soon. */
const databaseRetryAfterSeconds = 5;

/** Known errors keep their message; anything else is a 500 that says nothing internal. */
export function toErrorEnvelope(error: unknown): ErrorEnvelope {
  if (error instanceof ApiError) {
    return { status: error.status, body: { error: withDetails(error.code, error.message, error.details) } };
  }
  if (error instanceof TandemError) {
    const retryAfter = error.retryAfterSeconds === undefined ? undefined : { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterSeconds))) };
    return {
      status: statusOfKind[error.kind],
      ...(retryAfter ? { headers: retryAfter } : {}),
      body: { error: withDetails(error.code, error.message, error.details) },
    };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      status: 503,
      headers: { 'retry-after': String(databaseRetryAfterSeconds) },
      body: { error: { code: 'database_unavailable', message: 'Tandem cannot reach its database right now, so nothing was changed. Retry in a few seconds.' } },
    };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'Tandem could not complete the request. It has been logged.' } } };
}

function withDetails(code: EnvelopeCode, message: string, details: unknown) {
  return details === undefined ? { code, message } : { code, message, details };
}

/** Validates a request body; a failure is a 422 listing every field and what is wrong with it. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
  const summary = details.map((detail) => `${detail.field} ${detail.message}`).join('; ');
  throw invalid('validation_failed', `The request body is not valid: ${summary}.`, details);
}
