import type { WebClient } from '@slack/web-api';
import { slackErrorCode } from '../slack/errors';
import { isSlackUserId } from '../slack/text';

/** Invites everyone it can; returns who could not be invited and why (every one of them, when the whole call failed). */
export async function inviteToChannel(
  client: WebClient,
  botUserId: string,
  channel: string,
  people: string[],
): Promise<Array<{ user: string; error: unknown }>> {
  const users = [...new Set(people)].filter((user) => user !== botUserId && isSlackUserId(user));
  if (users.length === 0) return [];
  const perUser = (errors: unknown) =>
    (Array.isArray(errors) ? errors : [])
      .filter((entry): entry is { user: string; error: string } => typeof entry?.user === 'string')
      .filter((entry) => entry.error !== 'already_in_channel')
      .map((entry) => ({ user: entry.user, error: { code: 'slack_webapi_platform_error', data: { error: entry.error } } }));
  try {
    const result = await client.conversations.invite({ channel, users: users.join(','), force: true });
    return perUser((result as { errors?: unknown }).errors);
  } catch (error) {
    const failures = perUser((error as { data?: { errors?: unknown } }).data?.errors);
    if (failures.length > 0) return failures;
    if (slackErrorCode(error) === 'already_in_channel') return [];
    return users.map((user) => ({ user, error }));
  }
}
