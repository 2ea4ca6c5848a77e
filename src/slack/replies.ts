import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { isTandemError } from '../errors';
import type { Logger } from '../log';

const somethingBroke =
  'Tandem hit a problem on its side, so this did not go through. Please try again; if it keeps happening, tell whoever runs Tandem.';

/** What to tell the person when their command or click failed: our own message, or a safe apology. */
export function messageForError(error: unknown, logger: Logger): string {
  if (isTandemError(error)) return error.message;
  logger.error({ err: error }, 'slack action failed');
  return somethingBroke;
}

/** An ephemeral reply that leaves the message the person acted on untouched. */
export const ephemeral = (text: string) => ({ response_type: 'ephemeral' as const, replace_original: false, text });

/**
 * Answers the person who clicked: ephemerally where Slack gave a response_url, and
 * in a DM where it did not (a click on the App Home carries none).
 */
export function replyTo(args: { body: unknown; respond: RespondFn; client: WebClient }): (text: string) => Promise<unknown> {
  const body = args.body as { response_url?: string; user?: { id?: string } };
  if (body.response_url) return (text) => args.respond(ephemeral(text));
  return (text) => args.client.chat.postMessage({ channel: body.user?.id ?? '', text });
}
