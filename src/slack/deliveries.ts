import { z } from 'zod';
import type { Database } from '../db/client';
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

/** True the first time a key is seen, in any instance; false for every repeat. Throws DatabaseUnavailable after 1.5 s. */
export async function claimDelivery(db: Database, clock: Clock, key: string): Promise<boolean> {
  const insert = db
    .insert(slackDeliveries)
    .values({ key, receivedAt: clock.now() })
    .onConflictDoNothing()
    .returning({ key: slackDeliveries.key });
  const rows = await withinDeadline(insert.execute(), claimDeadlineMs, 'recording a Slack delivery');
  return rows.length > 0;
}
