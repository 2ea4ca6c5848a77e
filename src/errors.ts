/**
 * Domain errors. Each carries a stable `code` and a `kind`; the message is written
 * for the person who caused it (it says what was wrong and what would work). The
 * Slack layer turns these into ephemeral replies and the API layer into the JSON
 * error envelope, each in one place.
 */
export type ErrorKind = 'invalid' | 'not_found' | 'conflict' | 'forbidden' | 'unavailable';

export class TandemError extends Error {
  override name = 'TandemError';
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** For `unavailable`: when asking again is worth it. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const invalid = (code: string, message: string, details?: unknown) =>
  new TandemError('invalid', code, message, details);
export const notFound = (code: string, message: string) => new TandemError('not_found', code, message);
export const conflict = (code: string, message: string) => new TandemError('conflict', code, message);
export const forbidden = (code: string, message: string) => new TandemError('forbidden', code, message);
/**
 * A dependency Tandem needs for the answer (Slack, the database) is down: nothing was
 * refused, so callers should retry, not give up.
 */
export const unavailable = (code: string, message: string, retryAfterSeconds: number) =>
  new TandemError('unavailable', code, message, undefined, retryAfterSeconds);

export function isTandemError(error: unknown): error is TandemError {
  return error instanceof TandemError;
}
