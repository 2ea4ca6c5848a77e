import type { Json, WebApiAnswer } from './types';

/** A Slack error answer (`{ ok: false, error: code }`), thrown by a method handler. */
export class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Json = {},
  ) {
    super(code);
  }
}

export const ok = (body: Json): WebApiAnswer => ({ status: 200, headers: {}, body: { ok: true, ...body } });

/** Slack reports method errors with HTTP 200 and `ok: false`. */
export const slackError = (code: string, extra: Json = {}): WebApiAnswer => ({ status: 200, headers: {}, body: { ok: false, error: code, ...extra } });

export const rateLimited = (seconds: number): WebApiAnswer => ({
  status: 429,
  headers: { 'retry-after': String(seconds) },
  body: { ok: false, error: 'ratelimited' },
});
