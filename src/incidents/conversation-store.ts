import { and, asc, desc, eq, exists, isNotNull, lt, notExists, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { type IncidentMessageRow, incidentMessageMarks, incidentMessages, incidents } from '../db/schema';

/** The incident channels' conversation: stored messages and the marks that put them on the timeline. */

export interface DeliveredMessage {
  channelId: string;
  ts: string;
  user: string | null;
  text: string;
  threadTs: string | null;
  postedAt: Date;
}

/**
 * Stores a batch of delivered messages in one statement, keeping those whose channel
 * is an incident's (joined by channel id): a busy channel costs one round trip per
 * batch, and other channels' messages insert nothing. Repeats (a redelivery) change nothing.
 */
export async function storeDeliveredMessages(db: Database, messages: DeliveredMessage[]): Promise<void> {
  const unique = new Map(messages.map((message) => [`${message.channelId}/${message.ts}`, message]));
  if (unique.size === 0) return;
  const rows = JSON.stringify(
    [...unique.values()].map((message) => ({
      channel_id: message.channelId,
      ts: message.ts,
      user: message.user,
      text: message.text,
      thread_ts: message.threadTs,
      posted_at: message.postedAt.toISOString(),
    })),
  );
  await db.execute(sql`
    insert into ${incidentMessages} (channel_id, ts, incident_id, "user", text, thread_ts, posted_at)
    select v.channel_id, v.ts, i.id, v."user", v.text, v.thread_ts, v.posted_at
    from jsonb_to_recordset(${rows}::jsonb) as v(channel_id text, ts text, "user" text, text text, thread_ts text, posted_at timestamptz)
    join ${incidents} i on i.channel_id = v.channel_id
    on conflict (channel_id, ts) do update set text = excluded.text, "user" = excluded."user", thread_ts = excluded.thread_ts
    where ${incidentMessages}.text is null`);
}

/** An edit: the new text, whether or not the original was stored (then it is stored now). One statement. */
export async function storeEditedMessage(db: Database, message: DeliveredMessage & { editedAt: Date }): Promise<void> {
  await db
    .insert(incidentMessages)
    .select(
      db
        .select({
          channelId: sql<string>`${message.channelId}`.as('channel_id'),
          ts: sql<string>`${message.ts}`.as('ts'),
          incidentId: incidents.id,
          user: sql<string | null>`${message.user}::text`.as('user'),
          text: sql<string>`${message.text}::text`.as('text'),
          threadTs: sql<string | null>`${message.threadTs}::text`.as('thread_ts'),
          postedAt: sql<Date>`${message.postedAt.toISOString()}::timestamptz`.as('posted_at'),
          editedAt: sql<Date>`${message.editedAt.toISOString()}::timestamptz`.as('edited_at'),
          deletedAt: sql<Date | null>`null::timestamptz`.as('deleted_at'),
          permalink: sql<string | null>`null::text`.as('permalink'),
        })
        .from(incidents)
        .where(eq(incidents.channelId, message.channelId)),
    )
    .onConflictDoUpdate({
      target: [incidentMessages.channelId, incidentMessages.ts],
      set: { text: sql`excluded.text`, editedAt: sql`excluded.edited_at`, user: sql`coalesce(${incidentMessages.user}, excluded.user)` },
    });
}

/** A deletion keeps the row (the timeline shows the message as deleted) but forgets the text. */
export async function markMessageDeleted(db: Database, channelId: string, ts: string, deletedAt: Date): Promise<void> {
  await db
    .update(incidentMessages)
    .set({ deletedAt, text: null })
    .where(and(eq(incidentMessages.channelId, channelId), eq(incidentMessages.ts, ts)));
}

/** The message a mark is about, recorded without text when Tandem never saw it. */
export async function ensureMessage(
  db: Database,
  message: { channelId: string; ts: string; incidentId: string; user: string | null; text: string | null; postedAt: Date },
): Promise<IncidentMessageRow> {
  await db
    .insert(incidentMessages)
    .values({ ...message, threadTs: null })
    .onConflictDoUpdate({
      target: [incidentMessages.channelId, incidentMessages.ts],
      // A pin_added event carries the message, so a placeholder may gain its text.
      set: { text: sql`coalesce(${incidentMessages.text}, excluded.text)`, user: sql`coalesce(${incidentMessages.user}, excluded.user)` },
      where: sql`${incidentMessages.deletedAt} is null`,
    });
  const [row] = await db
    .select()
    .from(incidentMessages)
    .where(and(eq(incidentMessages.channelId, message.channelId), eq(incidentMessages.ts, message.ts)));
  if (!row) throw new Error('incident message vanished after its insert');
  return row;
}

/** True when the mark is new; a repeat (the same person's reaction, a second pin event) adds nothing. */
export async function addMark(db: Database, mark: { channelId: string; ts: string; mark: string; markedBy: string; markedAt: Date }): Promise<boolean> {
  const rows = await db.insert(incidentMessageMarks).values(mark).onConflictDoNothing().returning({ mark: incidentMessageMarks.mark });
  return rows.length > 0;
}

/** Removes one mark; returns how many marks the message still has. */
export async function removeMark(db: Database, channelId: string, ts: string, mark: string): Promise<number> {
  await db
    .delete(incidentMessageMarks)
    .where(and(eq(incidentMessageMarks.channelId, channelId), eq(incidentMessageMarks.ts, ts), eq(incidentMessageMarks.mark, mark)));
  const [left] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(incidentMessageMarks)
    .where(and(eq(incidentMessageMarks.channelId, channelId), eq(incidentMessageMarks.ts, ts)));
  return left?.count ?? 0;
}

export async function setPermalink(db: Database, channelId: string, ts: string, permalink: string): Promise<void> {
  await db
    .update(incidentMessages)
    .set({ permalink })
    .where(and(eq(incidentMessages.channelId, channelId), eq(incidentMessages.ts, ts)));
}

const hasMark = (db: Database) =>
  exists(
    db
      .select({ one: sql`1` })
      .from(incidentMessageMarks)
      .where(and(eq(incidentMessageMarks.channelId, incidentMessages.channelId), eq(incidentMessageMarks.ts, incidentMessages.ts))),
  );

/** The incident's messages that are on its timeline (pinned or marked), oldest first. */
export async function listMarkedMessages(db: Database, incidentId: string): Promise<IncidentMessageRow[]> {
  return db
    .select()
    .from(incidentMessages)
    .where(and(eq(incidentMessages.incidentId, incidentId), hasMark(db)))
    .orderBy(asc(incidentMessages.postedAt), asc(incidentMessages.ts));
}

export async function countStoredMessages(db: Database, incidentId: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(incidentMessages)
    .where(eq(incidentMessages.incidentId, incidentId));
  return row?.count ?? 0;
}

/** The newest stored message of the incident's channel, for the catch-up. */
export async function latestMessage(db: Database, incidentId: string): Promise<IncidentMessageRow | undefined> {
  const [row] = await db
    .select()
    .from(incidentMessages)
    .where(and(eq(incidentMessages.incidentId, incidentId), isNotNull(incidentMessages.text)))
    .orderBy(desc(incidentMessages.postedAt))
    .limit(1);
  return row;
}

/**
 * Forgets the conversation of incidents archived before `archivedBefore`. Messages on
 * the timeline stay: they are the incident's record, as its own events are.
 */
export async function deleteMessagesArchivedBefore(db: Database, archivedBefore: Date): Promise<number> {
  const archived = db
    .select({ id: incidents.id })
    .from(incidents)
    .where(and(isNotNull(incidents.archivedAt), lt(incidents.archivedAt, archivedBefore)));
  const rows = await db
    .delete(incidentMessages)
    .where(
      and(
        sql`${incidentMessages.incidentId} in ${archived}`,
        notExists(
          db
            .select({ one: sql`1` })
            .from(incidentMessageMarks)
            .where(and(eq(incidentMessageMarks.channelId, incidentMessages.channelId), eq(incidentMessageMarks.ts, incidentMessages.ts))),
        ),
      ),
    )
    .returning({ ts: incidentMessages.ts });
  return rows.length;
}
