import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client';
import { preparedPerDatabase } from '../db/prepared';
import { slackDeliveries } from '../db/schema';
import { withinDeadline } from '../db/unavailable';
import type { Clock } from '../time';
import { fromCommandText } from './text';

const deliveryFields = z.looseObject({
  type: z.string().optional(),
  event_id: z.string().optional(),
  command: z.string().optional(),
  text: z.string().optional(),
  trigger_id: z.string().optional(),
});

/**
 * Per slash command, which of its texts only read (`/change list`, `/incident
 * timeline`): a repeat of one changes nothing, so it needs no claim and its answer
 * can go straight into the ack. Each domain declares its own, beside its parser.
 */
export type ReadOnlyCommands = Partial<Record<string, (text: string) => boolean>>;

/**
 * What identifies one delivery from Slack: a retry of it carries the same key. Every
 * command, click and submission has its own trigger_id; events have an event_id.
 * Options requests, read-only commands and anything else without such an id are
 * never deduplicated.
 */
export function deliveryKey(body: unknown, readOnly: ReadOnlyCommands = {}): string | undefined {
  const parsed = deliveryFields.safeParse(body);
  if (!parsed.success) return undefined;
  const { type, event_id: eventId, command, text, trigger_id: triggerId } = parsed.data;
  if (type === 'event_callback' && eventId) return selfDeduplicatingEvents.has(eventType(body)) ? undefined : `event:${eventId}`;
  if (command && readOnly[command]?.(fromCommandText(text ?? ''))) return undefined;
  if (command && triggerId) return `command:${triggerId}`;
  if (type && ['block_actions', 'view_submission', 'shortcut', 'message_action'].includes(type) && triggerId) {
    return `${type}:${triggerId}`;
  }
  return undefined;
}

/**
 * Events whose listeners are idempotent by the event's own identity (a message is
 * stored once per channel and ts; a pin or a person's reaction marks a message once),
 * so they need no claim: a busy incident channel costs no round trip for it.
 */
const selfDeduplicatingEvents = new Set<string | undefined>(['message', 'pin_added', 'pin_removed', 'reaction_added', 'reaction_removed']);
const typedEvent = z.looseObject({ event: z.looseObject({ type: z.string() }) });
const eventType = (body: unknown) => typedEvent.safeParse(body).data?.event.type;

/**
 * The claim runs before the ack, and Slack gives up on an ack after 3 s: past this,
 * the database counts as unreachable and the person is told so in time.
 */
const claimDeadlineMs = 1_500;

/**
 * The claim is the one statement before every ack, so it is prepared once per
 * database: the ack then costs one round trip and no SQL building.
 */
const insertDelivery = preparedPerDatabase((db) =>
  db
    .insert(slackDeliveries)
    .values({ key: sql.placeholder('key'), receivedAt: sql.placeholder('receivedAt') })
    .onConflictDoNothing()
    .returning({ key: slackDeliveries.key })
    .prepare('claim_slack_delivery'),
);

/** True the first time a key is seen, in any instance; false for every repeat. Throws DatabaseUnavailable after 1.5 s. */
export async function claimDelivery(db: Database, clock: Clock, key: string): Promise<boolean> {
  const rows = await withinDeadline(insertDelivery(db).execute({ key, receivedAt: clock.now() }), claimDeadlineMs, 'recording a Slack delivery');
  return rows.length > 0;
}
