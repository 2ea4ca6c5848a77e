import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Logger } from '../log';

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

/** What Slack sent, as far as telling its sender something goes: who, and where they were. */
const sender = z.looseObject({
  user_id: z.string().optional(),
  channel_id: z.string().optional(),
  user: z.looseObject({ id: z.string() }).optional().catch(undefined),
  channel: z.looseObject({ id: z.string() }).optional().catch(undefined),
  container: z.looseObject({ channel_id: z.string().optional() }).optional().catch(undefined),
  event: z.looseObject({ user: z.string().optional().catch(undefined), channel: z.string().optional().catch(undefined) }).optional().catch(undefined),
});

function senderOf(body: unknown): { user?: string; channel?: string } {
  const parsed = sender.safeParse(body);
  if (!parsed.success) return {};
  const { data } = parsed;
  return {
    user: data.user?.id ?? data.user_id ?? data.event?.user,
    channel: data.channel?.id ?? data.channel_id ?? data.container?.channel_id ?? data.event?.channel,
  };
}

export interface Recipient {
  body: unknown;
  client: WebClient;
  /** Bolt's respond, present when Slack gave a response_url. */
  respond?: RespondFn;
  /** The bot itself never needs telling (its own events). */
  botUserId?: string;
}

/**
 * Tells the person behind a request something after Slack has had its ack: through
 * the response_url where there is one, else ephemerally where they were, else in a
 * DM. A request with nobody behind it (a forged one, a bot's event) is only logged.
 */
export async function tellAfterAck(recipient: Recipient, text: string, logger: Logger): Promise<void> {
  const { user, channel } = senderOf(recipient.body);
  try {
    if (recipient.respond) {
      await recipient.respond(ephemeral(text));
      return;
    }
    if (!user || user === recipient.botUserId) return;
    if (channel) {
      const posted = await recipient.client.chat.postEphemeral({ channel, user, text }).then(
        () => true,
        () => false,
      );
      if (posted) return;
    }
    await recipient.client.chat.postMessage({ channel: user, text });
  } catch (error) {
    logger.warn({ err: error, user }, 'could not tell the person what happened');
  }
}
