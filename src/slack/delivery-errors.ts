import { ErrorCode } from '@slack/web-api';

/** Platform errors worth another try; every other `ok: false` answer is final for that call. */
const transientSlackErrors = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
  'team_added_to_org',
]);

const maxBackoffMs = 10 * 60_000;
export type DeliveryOutcome =
  | { kind: 'sent'; response: Record<string, unknown> }
  | { kind: 'retry'; afterMs: number; error: string }
  | { kind: 'failed'; error: string };

/** How a Web API error should be treated: wait as Slack asks, back off, or give up. */
export function classifyDeliveryError(error: unknown, attempts: number): DeliveryOutcome {
  const coded = error as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number };
  switch (coded.code) {
    case ErrorCode.RateLimitedError:
      return { kind: 'retry', afterMs: (coded.retryAfter ?? 1) * 1000, error: 'ratelimited' };
    case ErrorCode.PlatformError: {
      const slackError = coded.data?.error ?? 'unknown_error';
      return transientSlackErrors.has(slackError)
        ? { kind: 'retry', afterMs: backoffMs(attempts), error: slackError }
        : { kind: 'failed', error: slackError };
    }
    case ErrorCode.HTTPError:
      return (coded.statusCode ?? 500) >= 500
        ? { kind: 'retry', afterMs: backoffMs(attempts), error: `http_${coded.statusCode}` }
        : { kind: 'failed', error: `http_${coded.statusCode}` };
    default:
      // Network failures and timeouts: the request may not have reached Slack.
      return { kind: 'retry', afterMs: backoffMs(attempts), error: errorMessage(error) };
  }
}

/** 1 s, 2 s, 4 s … capped at ten minutes, with jitter so instances do not retry in step. */
export function backoffMs(attempts: number): number {
  const base = Math.min(maxBackoffMs, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
