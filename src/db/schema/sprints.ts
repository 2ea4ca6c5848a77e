import { sql } from 'drizzle-orm';
import { bigint, boolean, date, index, integer, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';

export const featureStatus = pgEnum('feature_status', ['planned', 'in-dev', 'in-uat', 'done', 'dropped']);

/** A sprint of one service. The service's current sprint is the one that starts last. */
export const sprints = pgTable(
  'sprints',
  {
    id: uuid().primaryKey().defaultRandom(),
    /** The tracker's key (`PUT /sprints/:key`), or one derived from the name for sprints started in Slack. */
    key: text().notNull(),
    service: text().notNull(),
    name: text().notNull(),
    startsOn: date({ mode: 'string' }).notNull(),
    endsOn: date({ mode: 'string' }).notNull(),
    /** Goes up with every change, so a digest rendered from an older revision is known to be stale. */
    revision: integer().notNull().default(0),
    /** Numbers the `F-<n>` keys of features added in Slack. */
    featuresAdded: integer().notNull().default(0),
    createdBy: text().notNull(),
    createdAt: timestamptz().notNull(),
    updatedAt: timestamptz().notNull(),
  },
  (table) => [
    uniqueIndex('sprints_key_key').on(table.key),
    index('sprints_service_starts_on_idx').on(table.service, table.startsOn),
  ],
);

export const sprintFeatures = pgTable(
  'sprint_features',
  {
    id: uuid().primaryKey().defaultRandom(),
    sprintId: uuid()
      .notNull()
      .references(() => sprints.id),
    /** What people type: `F-3`, or the tracker's key. Unique per sprint, ignoring case. */
    key: text().notNull(),
    title: text().notNull(),
    status: featureStatus().notNull(),
    customerVisible: boolean().notNull(),
    /** Keeps the order features were added in. */
    position: integer().notNull(),
    statusChangedAt: timestamptz().notNull(),
    createdAt: timestamptz().notNull(),
  },
  (table) => [uniqueIndex('sprint_features_sprint_id_key_key').on(table.sprintId, sql`upper(${table.key})`)],
);

/** Every status a feature had, who set it and when. Append-only. */
export const sprintFeatureEvents = pgTable(
  'sprint_feature_events',
  {
    id: bigint({ mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    featureId: uuid()
      .notNull()
      .references(() => sprintFeatures.id),
    at: timestamptz().notNull(),
    actor: text().notNull(),
    /** Null when the feature was added. */
    fromStatus: featureStatus(),
    toStatus: featureStatus().notNull(),
  },
  (table) => [index('sprint_feature_events_feature_id_at_idx').on(table.featureId, table.at)],
);

/** A customer channel that gets a service's sprint digest on a schedule. */
export const digestSubscriptions = pgTable(
  'digest_subscriptions',
  {
    id: uuid().primaryKey().defaultRandom(),
    service: text().notNull(),
    channel: text().notNull(),
    cron: text().notNull(),
    timeZone: text().notNull(),
    subscribedBy: text().notNull(),
    /** Periods before this are never posted, so subscribing does not post last week's digest. */
    activeSince: timestamptz().notNull(),
    /** Set by unsubscribing, or when Slack refuses the channel; subscribing again clears it. */
    disabledAt: timestamptz(),
    disabledReason: text(),
  },
  (table) => [uniqueIndex('digest_subscriptions_service_channel_key').on(table.service, table.channel)],
);

/** One digest message in a channel; the latest one of a subscription is kept current in place. */
export const sprintDigests = pgTable(
  'sprint_digests',
  {
    id: uuid().primaryKey().defaultRandom(),
    subscriptionId: uuid()
      .notNull()
      .references(() => digestSubscriptions.id),
    sprintId: uuid()
      .notNull()
      .references(() => sprints.id),
    channel: text().notNull(),
    /** Known once the outbox has posted it. */
    messageTs: text(),
    /** The sprint revision the message shows. */
    renderedRevision: integer().notNull(),
    postedAt: timestamptz(),
    createdAt: timestamptz().notNull(),
  },
  (table) => [index('sprint_digests_subscription_id_created_at_idx').on(table.subscriptionId, table.createdAt)],
);

/** A customer's message tracked as a request, answered by a feature when it ships. */
export const customerRequests = pgTable(
  'customer_requests',
  {
    id: uuid().primaryKey().defaultRandom(),
    number: integer().generatedAlwaysAsIdentity().notNull(),
    /** A customer channel; its services (from the catalog) own the request until a feature answers it. */
    channel: text().notNull(),
    messageTs: text().notNull(),
    text: text().notNull(),
    /** Who wrote the message. */
    requester: text(),
    permalink: text(),
    trackedBy: text().notNull(),
    featureId: uuid().references(() => sprintFeatures.id),
    createdAt: timestamptz().notNull(),
    linkedAt: timestamptz(),
    /** When the channel was told, in the message's thread, that the feature shipped. */
    shippedAt: timestamptz(),
  },
  (table) => [
    uniqueIndex('customer_requests_number_key').on(table.number),
    uniqueIndex('customer_requests_channel_message_ts_key').on(table.channel, table.messageTs),
    index('customer_requests_feature_id_idx').on(table.featureId),
    index('customer_requests_channel_created_at_idx').on(table.channel, table.createdAt),
  ],
);

export type SprintRow = typeof sprints.$inferSelect;
export type SprintFeatureRow = typeof sprintFeatures.$inferSelect;
export type DigestSubscriptionRow = typeof digestSubscriptions.$inferSelect;
export type SprintDigestRow = typeof sprintDigests.$inferSelect;
export type CustomerRequestRow = typeof customerRequests.$inferSelect;
