import type { App, BlockAction } from '@slack/bolt';
import type { ActionArgs, ViewArgs } from './listener-args';

/**
 * A domain's buttons, forms and events, each kind registered as one Bolt listener
 * over a table keyed by action_id, callback_id or event type. Bolt runs the matcher
 * of every listener it has for every request it gets (about 4 µs each, most of it
 * copying the arguments), so forty listeners cost more than the rest of a `/change
 * list`; a dozen cost little. Bolt still does the matching, against exactly the
 * table's keys, and the table says what each one does.
 */
export type ActionHandlers = Record<string, (args: ActionArgs) => Promise<unknown>>;
export type ViewHandlers = Record<string, (args: ViewArgs) => Promise<unknown>>;
export type EventHandlers = Record<string, (event: unknown) => Promise<unknown>>;

export function onActions(app: App, handlers: ActionHandlers): void {
  app.action<BlockAction>(exactly(handlers), async (args) => void (await handlers[args.action.action_id]!(args)));
}

export function onViews(app: App, handlers: ViewHandlers): void {
  app.view(exactly(handlers), async (args) => void (await handlers[args.view.callback_id]!(args)));
}

export function onEvents(app: App, handlers: EventHandlers): void {
  app.event(exactly(handlers), async ({ event }) => void (await handlers[event.type]!(event)));
}

/** Matches the table's keys and nothing else. */
function exactly(handlers: Record<string, unknown>): RegExp {
  const keys = Object.keys(handlers).map((key) => key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(?:${keys.join('|')})$`);
}
