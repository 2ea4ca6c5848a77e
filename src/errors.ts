/**
 * Domain errors. Each carries a stable `code` and a `kind`; the message is written
 * for the person who caused it (it says what was wrong and what would work). The
 * Slack layer turns these into ephemeral replies and the API layer into the JSON
 * error envelope, each in one place.
 */
export type ErrorKind = 'invalid' | 'not_found' | 'conflict' | 'forbidden' | 'unavailable';

/**
 * Every code a TandemError can carry. Callers and clients compare codes (the API's
 * error envelope publishes them), so a code is a member of this union, never a free
 * string: a typo or a retired code fails the typecheck. A new code is added here.
 */
export type ErrorCode =
  // any domain
  | 'validation_failed'
  | 'unreadable_form'
  | 'stale_button'
  | 'text_required'
  | 'title_required'
  | 'reason_required'
  | 'invalid_title'
  | 'invalid_name'
  | 'invalid_user'
  | 'invalid_scope'
  | 'invalid_cursor'
  | 'invalid_schedule'
  | 'invalid_severity'
  | 'unchanged'
  | 'not_allowed'
  | 'name_taken'
  | 'dependency_unavailable'
  // services (the catalog)
  | 'unknown_service'
  | 'ambiguous_service'
  | 'service_required'
  | 'service_mismatch'
  | 'not_on_service_team'
  // incidents
  | 'incident_not_found'
  | 'incident_conflict'
  | 'incident_resolved'
  | 'follow_up_conflict'
  | 'unknown_role'
  | 'follow_up_not_found'
  // changes
  | 'change_not_found'
  | 'deployment_not_found'
  | 'change_conflict'
  | 'change_decided'
  | 'change_closed'
  | 'change_not_approved'
  | 'change_never_deployed'
  | 'no_review_pending'
  | 'already_voted'
  | 'not_an_approver'
  | 'not_owner_or_approver'
  | 'own_change'
  // sprints, features, digests and customer requests
  | 'sprint_not_found'
  | 'sprint_conflict'
  | 'sprint_exists'
  | 'sprint_service_mismatch'
  | 'starts_before_current'
  | 'no_sprint'
  | 'feature_not_found'
  | 'request_not_found'
  | 'request_conflict'
  | 'request_shipped'
  | 'not_a_customer_channel'
  | 'not_subscribed'
  // API tokens
  | 'token_not_found';

export class TandemError extends Error {
  override name = 'TandemError';
  constructor(
    readonly kind: ErrorKind,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** For `unavailable`: when asking again is worth it. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const invalid = (code: ErrorCode, message: string, details?: unknown) =>
  new TandemError('invalid', code, message, details);
export const notFound = (code: ErrorCode, message: string) => new TandemError('not_found', code, message);
export const conflict = (code: ErrorCode, message: string) => new TandemError('conflict', code, message);
export const forbidden = (code: ErrorCode, message: string) => new TandemError('forbidden', code, message);
/**
 * A dependency Tandem needs for the answer (Slack, the database) is down: nothing was
 * refused, so callers should retry, not give up.
 */
export const unavailable = (code: ErrorCode, message: string, retryAfterSeconds: number) =>
  new TandemError('unavailable', code, message, undefined, retryAfterSeconds);

export function isTandemError(error: unknown): error is TandemError {
  return error instanceof TandemError;
}

/** True when `error` is a TandemError with this code (the code is checked against ErrorCode). */
export function hasErrorCode(error: unknown, code: ErrorCode): error is TandemError {
  return isTandemError(error) && error.code === code;
}
