import { and, eq, lt } from 'drizzle-orm';
import type { Database } from '../db/client';
import { idempotencyKeys, slackDeliveries, slackOutbox } from '../db/schema';
import { type Clock, dayMs } from '../time';

/**
 * Forgets what is only kept to recognise repeats: Slack delivery keys (Slack retries
 * within minutes), idempotency keys (clients retry within hours) and sent outbox rows.
 * Deleting is idempotent, so every instance may run it.
 */
export async function pruneExpiredRecords(db: Database, clock: Clock): Promise<void> {
  const now = clock.now().getTime();
  await db.delete(slackDeliveries).where(lt(slackDeliveries.receivedAt, new Date(now - dayMs)));
  await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, new Date(now - dayMs)));
  await db.delete(slackOutbox).where(and(eq(slackOutbox.status, 'sent'), lt(slackOutbox.sentAt, new Date(now - 7 * dayMs))));
}
