import { ErrorCode } from '@slack/web-api';

/** Slack's own error string ("name_taken", "missing_scope"), or a short code for transport failures. */
export function slackErrorCode(error: unknown): string {
  const coded = error as { code?: string; data?: { error?: string }; statusCode?: number };
  switch (coded?.code) {
    case ErrorCode.PlatformError:
      return coded.data?.error ?? 'unknown_error';
    case ErrorCode.RateLimitedError:
      return 'ratelimited';
    case ErrorCode.HTTPError:
      return `http_${coded.statusCode ?? 'error'}`;
    case ErrorCode.RequestError:
      return 'slack_unreachable';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

const remedies: Record<string, string> = {
  missing_scope: 'Tandem lacks a Slack permission it needs. A workspace admin should reinstall it from manifests/slack-app.yaml.',
  not_authed: 'Tandem’s bot token is missing. Check SLACK_BOT_TOKEN.',
  invalid_auth: 'Slack rejected Tandem’s bot token. Check SLACK_BOT_TOKEN.',
  token_revoked: 'Tandem’s bot token was revoked. Reinstall the app.',
  account_inactive: 'Tandem’s bot token belongs to a deactivated app. Reinstall the app.',
  restricted_action: 'A workspace setting stops apps from doing this. Ask a workspace admin.',
  channel_not_found: 'The channel does not exist, or Tandem cannot see it.',
  not_in_channel: 'Tandem is not a member of that channel. Invite it with /invite @Tandem.',
  is_archived: 'The channel is archived.',
  user_not_found: 'That user is not in this workspace.',
  user_is_restricted: 'Guests cannot be invited to this channel.',
  cant_invite: 'Slack does not allow inviting that user here.',
  ratelimited: 'Slack is rate limiting Tandem. It will catch up shortly.',
  slack_unreachable: 'Slack could not be reached. Try again in a moment.',
};

/** A sentence for people: what Slack said and what would fix it. */
export function describeSlackError(error: unknown): string {
  return describeSlackErrorCode(slackErrorCode(error));
}

/** The same, for an error code already taken from Slack's answer (an outbox row's last error). */
export function describeSlackErrorCode(code: string): string {
  const remedy = remedies[code];
  return remedy ? `Slack said \`${code}\`. ${remedy}` : `Slack said \`${code}\`.`;
}

/** Slack's own answers that mean "not now" rather than "no". */
const slackServerErrors = new Set(['fatal_error', 'internal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

/**
 * When a failed call means Slack is down, unreachable or rate limiting (not that it
 * refused the request): how long to wait before asking again. Undefined otherwise.
 */
export function slackUnavailableFor(error: unknown): number | undefined {
  const coded = error as { code?: string; data?: { error?: string }; retryAfter?: number };
  switch (coded?.code) {
    case ErrorCode.RateLimitedError:
      return coded.retryAfter ?? 30;
    case ErrorCode.HTTPError:
    case ErrorCode.RequestError:
      return 10;
    case ErrorCode.PlatformError:
      return slackServerErrors.has(coded.data?.error ?? '') ? 10 : undefined;
    default:
      return undefined;
  }
}
