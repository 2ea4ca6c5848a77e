import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { changes, deployments } from './changes';
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
  },
  (table) => [
    uniqueIndex('problems_number_key').on(table.number),
    uniqueIndex('problems_request_key_key').on(table.requestKey),
    index('problems_incident_id_idx').on(table.incidentId),
  ],
);

export type IncidentRow = typeof incidents.$inferSelect;
export type IncidentEventRow = typeof incidentEvents.$inferSelect;
export type ProblemRow = typeof problems.$inferSelect;
