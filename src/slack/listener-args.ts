import type {
  AllMiddlewareArgs,
  BlockAction,
  MessageShortcut,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackShortcutMiddlewareArgs,
  SlackViewMiddlewareArgs,
} from '@slack/bolt';
import { z } from 'zod';
import { invalid } from '../errors';

/** What Bolt hands each kind of listener. */
export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
export type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;
export type ViewArgs = SlackViewMiddlewareArgs & AllMiddlewareArgs;
export type ShortcutArgs = SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs;

const clickPayload = z.object({
  trigger_id: z.string(),
  user: z.object({ id: z.string() }),
  actions: z.array(z.object({ value: z.string() })).min(1),
});

/** What a button click carries: who clicked, the trigger for a modal, and the button's value. */
export interface Click<T> {
  user: string;
  triggerId: string;
  value: T;
}

/**
 * The click on a button whose value must match `value`. Anything else (an old
 * message's button, a forged payload) is a TandemError the shared error path shows
 * to the person who clicked, never a silent return.
 */
export function readClick<T>(body: unknown, value: z.ZodType<T>): Click<T> {
  const click = clickPayload.safeParse(body);
  const parsed = click.success ? value.safeParse(click.data.actions[0]!.value) : undefined;
  if (!click.success || !parsed?.success) {
    throw invalid('stale_button', 'That button is out of date or damaged, so nothing changed. Use the buttons on the latest message instead.');
  }
  return { user: click.data.user.id, triggerId: click.data.trigger_id, value: parsed.data };
}
