import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client';
import { preparedPerDatabase } from '../db/prepared';
import { slackDeliveries } from '../db/schema';
import { withinDeadline } from '../db/unavailable';
import type { Clock } from '../time';

const deliveryFields = z.looseObject({
  type: z.string().optional(),
  event_id: z.string().optional(),
  command: z.string().optional(),
  trigger_id: z.string().optional(),
});

/**
 * What identifies one delivery from Slack: a retry of it carries the same key. Every
 * command, click and submission has its own trigger_id; events have an event_id.
 * Options requests and anything else without such an id are never deduplicated.
 */
export function deliveryKey(body: unknown): string | undefined {
  const parsed = deliveryFields.safeParse(body);
  if (!parsed.success) return undefined;
  const { type, event_id: eventId, command, trigger_id: triggerId } = parsed.data;
  if (type === 'event_callback' && eventId) return `event:${eventId}`;
  if (command && triggerId) return `command:${triggerId}`;
  if (type && ['block_actions', 'view_submission', 'shortcut', 'message_action'].includes(type) && triggerId) {
    return `${type}:${triggerId}`;
  }
  return undefined;
}

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
