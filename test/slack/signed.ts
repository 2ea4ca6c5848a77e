import { signSlackRequest } from '../../src/fake-slack';
import { type Harness, signingSecret } from '../support/harness';

export interface Answer {
  status: number;
  body: unknown;
  ms: number;
}

/** Slack gives up on an answer after 3 s; a request still unanswered then fails the test. */
export const slackDeadlineMs = 3_000;

/**
 * Posts `body` to /slack/events signed as Slack would (timestamp from the harness clock
 * unless given), and fails when no answer comes within Slack's 3 s.
 */
export async function postSigned(
  t: Harness,
  body: string,
  options: { contentType?: string; timestamp?: string | number; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const timestamp = String(options.timestamp ?? Math.floor(t.clock.now().getTime() / 1000));
  const started = performance.now();
  const response = await fetch(`${t.baseUrl}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signSlackRequest(signingSecret, Number(timestamp), body),
      ...options.headers,
    },
    body,
    signal: AbortSignal.timeout(slackDeadlineMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // a plain-text answer
  }
  return { status: response.status, body: parsed, ms: performance.now() - started };
}

export const form = (payload: unknown) => new URLSearchParams({ payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }).toString();

/** The view_submission Slack would send for an open modal, with `state` as given (forged). */
export function submissionOf(t: Harness, user: string, viewId: string, state: unknown) {
  const open = t.slack.views.get(viewId);
  if (!open) throw new Error(`no view ${viewId}`);
  return {
    type: 'view_submission',
    team: { id: t.slack.teamId, domain: 'sandbox' },
    user: { id: user, team_id: t.slack.teamId },
    api_app_id: t.slack.appId,
    trigger_id: t.slack.issueTrigger(user),
    view: {
      ...open.view,
      id: viewId,
      hash: open.hash,
      state,
      private_metadata: open.view.private_metadata ?? '',
      callback_id: open.view.callback_id ?? '',
    },
    response_urls: [],
  };
}
