import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { changes, deployments } from './changes';
import { sprintFeatures } from './sprints';
import { timestamptz } from './columns';

export const incidentStatus = pgEnum('incident_status', ['investigating', 'identified', 'monitoring', 'resolved']);

/** Whether the swarm set-up (channel, invites, pinned summary, announcements) still has steps to run. */
export const swarmSetupState = pgEnum('swarm_setup_state', ['pending', 'done']);

export const incidents = pgTable(
  'incidents',
  {
    id: uuid().primaryKey().defaultRandom(),
    number: integer().generatedAlwaysAsIdentity().notNull(),
    title: text().notNull(),
    description: text(),
    service: text(),
    severity: smallint().notNull(),
    status: incidentStatus().notNull().default('investigating'),
    commander: text(),
    declaredBy: text().notNull(),
    /** Identifies the Slack delivery or API request that declared it, so a retry finds this row. */
    requestKey: text(),
    /** Alerting tools' deduplication key; at most one open incident per key. */
    dedupKey: text(),
    private: boolean().notNull().default(false),
    channelId: text(),
    channelName: text(),
    summaryTs: text(),
    summaryPinned: boolean().notNull().default(false),
    /**
     * Swarm set-up is a durable job on the row: pending from the insert, claimed with a
     * lease by whichever instance runs it, resumed after a crash, retried with backoff.
     */
    swarmSetup: swarmSetupState().notNull().default('pending'),
    /** The channel name asked of Slack, written before asking, so a retry adopts that channel instead of making a second. */
    swarmChannelName: text(),
    /** People named at declaration, invited with the declarer and the service's responders. */
    swarmInvite: text().array().notNull().default(sql`'{}'::text[]`),
    swarmInvited: boolean().notNull().default(false),
    swarmAttempts: integer().notNull().default(0),
    swarmNotBefore: timestamptz(),
    swarmLockedUntil: timestamptz(),
    swarmLastError: text(),
    declaredAt: timestamptz().notNull(),
    resolvedAt: timestamptz(),
    resolution: text(),
    archivedAt: timestamptz(),
    /** The change that caused it; linking marks that change failed. */
    causedByChangeId: uuid().references(() => changes.id),
    /** The deployment that caused it; that deployment counts as failed in the change failure rate. */
    causedByDeploymentId: uuid().references(() => deployments.id),
    updatedAt: timestamptz().notNull(),
  },
  (table) => [
    uniqueIndex('incidents_number_key').on(table.number),
    uniqueIndex('incidents_request_key_key').on(table.requestKey),
    uniqueIndex('incidents_open_dedup_key_key').on(table.dedupKey).where(sql`${table.status} <> 'resolved'`),
    uniqueIndex('incidents_channel_id_key').on(table.channelId),
    index('incidents_service_declared_at_idx').on(table.service, table.declaredAt),
    index('incidents_caused_by_change_id_idx').on(table.causedByChangeId),
    index('incidents_caused_by_deployment_id_idx').on(table.causedByDeploymentId),
    index('incidents_service_resolved_at_idx').on(table.service, table.resolvedAt),
    // Conflicts of a change: the service's open incidents.
    index('incidents_open_service_idx').on(table.service, table.severity).where(sql`${table.status} <> 'resolved'`),
    index('incidents_resolved_at_idx').on(table.resolvedAt),
    index('incidents_swarm_setup_pending_idx').on(table.swarmNotBefore).where(sql`${table.swarmSetup} = 'pending'`),
  ],
);

/** The incident's timeline: every change, who made it and when. Append-only. */
export const incidentEvents = pgTable(
  'incident_events',
  {
    id: bigint({ mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    incidentId: uuid()
      .notNull()
      .references(() => incidents.id),
    at: timestamptz().notNull(),
    actor: text().notNull(),
    kind: text().notNull(),
    text: text().notNull(),
    data: jsonb().$type<Record<string, unknown>>().notNull().default({}),
  },
  (table) => [index('incident_events_incident_id_at_idx').on(table.incidentId, table.at)],
);

export const problemState = pgEnum('problem_state', ['open', 'done', 'wont-do']);

/** Follow-up work raised from a resolved incident (a problem record in ITSM terms). */
export const problems = pgTable(
  'problems',
  {
    id: uuid().primaryKey().defaultRandom(),
    number: integer().generatedAlwaysAsIdentity().notNull(),
    incidentId: uuid()
      .notNull()
      .references(() => incidents.id),
    title: text().notNull(),
    description: text(),
    createdBy: text().notNull(),
    requestKey: text(),
    createdAt: timestamptz().notNull(),
    /** Who sees it through; null when nobody was named. */
    owner: text(),
    state: problemState().notNull().default('open'),
    stateChangedAt: timestamptz(),
    stateChangedBy: text(),
    /** The internal `PRB-n` feature in the service's sprint; null until the service has a sprint. */
    featureId: uuid().references(() => sprintFeatures.id),
  },
  (table) => [
    uniqueIndex('problems_number_key').on(table.number),
    uniqueIndex('problems_feature_id_key').on(table.featureId),
    uniqueIndex('problems_request_key_key').on(table.requestKey),
    index('problems_incident_id_idx').on(table.incidentId),
  ],
);

/**
 * The postmortem draft's file for the incident channel, uploaded once through Slack's
 * external upload flow: each step records its result, so a retry repeats none that succeeded.
 */
export const incidentPostmortems = pgTable('incident_postmortems', {
  incidentId: uuid()
    .primaryKey()
    .references(() => incidents.id),
  state: swarmSetupState().notNull().default('pending'),
  /** The Markdown as first rendered: a retry sends the bytes whose length Slack was told. */
  content: text(),
  /** From files.getUploadURLExternal; the bytes go to `uploadUrl`. */
  fileId: text(),
  uploadUrl: text(),
  /** The bytes reached the upload URL. */
  uploaded: boolean().notNull().default(false),
  attempts: integer().notNull().default(0),
  notBefore: timestamptz().notNull(),
  lockedUntil: timestamptz(),
  lastError: text(),
  createdAt: timestamptz().notNull(),
});

/**
 * The messages of incident channels, as the Events API delivered them (never read
 * back from conversations.history). A message Tandem never saw but someone put on
 * the timeline has a row without text. Dropped after the channel's retention.
 */
export const incidentMessages = pgTable(
  'incident_messages',
  {
    channelId: text().notNull(),
    ts: text().notNull(),
    incidentId: uuid()
      .notNull()
      .references(() => incidents.id),
    user: text(),
    /** Null when Tandem never received the message itself. */
    text: text(),
    threadTs: text(),
    postedAt: timestamptz().notNull(),
    editedAt: timestamptz(),
    deletedAt: timestamptz(),
    permalink: text(),
  },
  (table) => [
    primaryKey({ columns: [table.channelId, table.ts] }),
    index('incident_messages_incident_id_posted_at_idx').on(table.incidentId, table.postedAt),
  ],
);

/**
 * Who put a message on the timeline: its pin (one per message, whoever pinned it) and
 * each person's timeline reaction. A message is on the timeline while it has a mark.
 */
export const incidentMessageMarks = pgTable(
  'incident_message_marks',
  {
    channelId: text().notNull(),
    ts: text().notNull(),
    /** `pin`, or `reaction:<user>`. */
    mark: text().notNull(),
    markedBy: text().notNull(),
    markedAt: timestamptz().notNull(),
  },
  (table) => [primaryKey({ columns: [table.channelId, table.ts, table.mark] })],
);

export type IncidentRow = typeof incidents.$inferSelect;
export type IncidentMessageRow = typeof incidentMessages.$inferSelect;
export type IncidentEventRow = typeof incidentEvents.$inferSelect;
export type ProblemRow = typeof problems.$inferSelect;
export type IncidentPostmortemRow = typeof incidentPostmortems.$inferSelect;
