import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgEnum, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';

/**
 * Slack deliveries already taken: a retried command, click or event with the same
 * key is acknowledged and dropped, whichever instance it reaches.
 */
export const slackDeliveries = pgTable('slack_deliveries', {
  key: text().primaryKey(),
  receivedAt: timestamptz().notNull(),
});

export const outboxStatus = pgEnum('outbox_status', ['pending', 'sent', 'failed']);

/**
 * Durable outbox of Slack Web API calls that must not be lost. Rows are written in
 * the same transaction as the change they announce and sent by the outbox worker.
 */
export const slackOutbox = pgTable(
  'slack_outbox',
  {
    id: bigint({ mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    /** What the call is for; the worker tells that topic's handler how it went. */
    topic: text().notNull(),
    /** The record the message is about (an incident id, a subscription id), for the topic's handler. */
    ref: text(),
    dedupKey: text(),
    method: text().notNull(),
    args: jsonb().$type<Record<string, unknown>>().notNull(),
    /** Calls to the same channel are sent in order. */
    channel: text(),
    status: outboxStatus().notNull().default('pending'),
    attempts: integer().notNull().default(0),
    notBefore: timestamptz().notNull(),
    lockedUntil: timestamptz(),
    lastError: text(),
    response: jsonb().$type<Record<string, unknown>>(),
    createdAt: timestamptz().notNull(),
    sentAt: timestamptz(),
  },
  (table) => [
    uniqueIndex('slack_outbox_dedup_key_key').on(table.dedupKey),
    index('slack_outbox_status_not_before_idx').on(table.status, table.notBefore),
    index('slack_outbox_channel_id_idx').on(table.channel, table.id).where(sql`${table.status} = 'pending'`),
  ],
);

export type OutboxRow = typeof slackOutbox.$inferSelect;
