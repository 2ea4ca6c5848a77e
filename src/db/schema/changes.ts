import { type SQL, sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';

export const changeType = pgEnum('change_type', ['standard', 'normal', 'emergency']);
export const changeRisk = pgEnum('change_risk', ['low', 'medium', 'high']);
export const changeStatus = pgEnum('change_status', ['pending', 'approved', 'rejected', 'cancelled', 'deployed', 'failed']);
export const voteChoice = pgEnum('vote_choice', ['approve', 'reject']);
export const deploymentStatus = pgEnum('deployment_status', ['success', 'failure']);

/** The explanation an automatic decision stores: the rule that decided and the figures it used. */
/** A reason to look twice at a change: another change's overlapping window, an open SEV1/SEV2 incident, a freeze. */
export interface ChangeConflict {
  kind: 'change' | 'incident' | 'freeze';
  /** CHG-n or INC-n; absent for a freeze, and for a private incident (its key and title stay in its channel). */
  key?: string;
  message: string;
  /** Whether it stops the change: a freeze does, except for an emergency change. */
  blocking?: boolean;
}

export interface PolicyExplanation {
  rule: string;
  outcome: 'approved' | 'needs_approval' | 'rejected';
  summary: string;
  figures: Record<string, unknown>;
}

export const changes = pgTable(
  'changes',
  {
    id: uuid().primaryKey().defaultRandom(),
    number: integer().generatedAlwaysAsIdentity().notNull(),
    service: text().notNull(),
    title: text().notNull(),
    type: changeType().notNull(),
    risk: changeRisk().notNull(),
    environment: text().notNull(),
    description: text(),
    rollbackPlan: text(),
    justification: text(),
    plannedStart: timestamptz(),
    plannedEnd: timestamptz(),
    ref: text(),
    commitSha: text(),
    /** A Slack user ID, or `api:<token name>` when a pipeline asked without naming a person. */
    requestedBy: text().notNull(),
    requestKey: text(),
    status: changeStatus().notNull().default('pending'),
    requestedAt: timestamptz().notNull(),
    /** The budget sprint the request fell in, e.g. "2026-11-16". */
    sprint: text().notNull(),
    decidedAt: timestamptz(),
    /** Who decided: approvers' IDs, the rejecter, or "policy". */
    decidedBy: text().array(),
    decisionReason: text(),
    policy: jsonb().$type<PolicyExplanation>(),
    /** Conflicts as last computed: at the request, at the decision, and when a conflicting change was decided. */
    conflicts: jsonb().$type<ChangeConflict[]>().notNull().default([]),
    /** Set when the policy approved it, so it counts against the sprint's budget. */
    approvedByPolicy: boolean().notNull().default(false),
    reviewRequired: boolean().notNull().default(false),
    lastRemindedAt: timestamptz(),
    deployedAt: timestamptz(),
    failedAt: timestamptz(),
    failureReason: text(),
    updatedAt: timestamptz().notNull(),
  },
  (table) => [
    uniqueIndex('changes_number_key').on(table.number),
    uniqueIndex('changes_request_key_key').on(table.requestKey),
    index('changes_service_sprint_idx').on(table.service, table.sprint),
    index('changes_pending_requested_at_idx').on(table.requestedAt).where(sql`${table.status} = 'pending'`),
    index('changes_service_deployed_at_idx').on(table.service, table.deployedAt),
    index('changes_service_failed_at_idx').on(table.service, table.failedAt),
    // Conflicts and the calendar look only at open changes with a window.
    index('changes_open_window_idx')
      .on(table.service, table.plannedStart, table.plannedEnd)
      .where(sql`${table.status} in ('pending', 'approved') and ${table.plannedStart} is not null`),
    index('changes_planned_start_idx').on(table.plannedStart).where(sql`${table.plannedStart} is not null`),
    // The few changes the deployment KPIs look up (failed ones, emergencies), without reading the rest.
    index('changes_failed_or_emergency_idx')
      .on(table.id, table.status, table.type)
      .where(sql`${table.status} = 'failed' or ${table.type} = 'emergency'`),
  ],
);

/** One vote per person per change, enforced by the primary key. */
export const changeVotes = pgTable(
  'change_votes',
  {
    changeId: uuid()
      .notNull()
      .references(() => changes.id),
    voter: text().notNull(),
    choice: voteChoice().notNull(),
    reason: text(),
    at: timestamptz().notNull(),
  },
  (table) => [primaryKey({ name: 'change_votes_pkey', columns: [table.changeId, table.voter] })],
);

/** Messages showing a change (approval requests, DMs), updated in place when it is decided. */
export const changeMessages = pgTable(
  'change_messages',
  {
    changeId: uuid()
      .notNull()
      .references(() => changes.id),
    channel: text().notNull(),
    ts: text().notNull(),
    /** approval: has the vote buttons; notice: informational. */
    kind: text().notNull(),
  },
  (table) => [primaryKey({ name: 'change_messages_pkey', columns: [table.channel, table.ts] }), index('change_messages_change_id_idx').on(table.changeId)],
);

/** Append-only record of every request, vote, policy evaluation and state change (a trigger refuses edits). */
export const changeAudit = pgTable(
  'change_audit',
  {
    id: bigint({ mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    changeId: uuid()
      .notNull()
      .references(() => changes.id),
    at: timestamptz().notNull(),
    actor: text().notNull(),
    action: text().notNull(),
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
  },
  (table) => [index('change_audit_change_id_idx').on(table.changeId, table.id)],
);

/**
 * Each service's change budget per sprint, set once when the sprint's first
 * standard change is evaluated, from the previous sprint's budget and success rates.
 */
export const changeBudgets = pgTable(
  'change_budgets',
  {
    service: text().notNull(),
    sprint: text().notNull(),
    budget: integer().notNull(),
    previousBudget: integer(),
    /** Success rates of the two sprints before this one, newest first; null where a sprint had no changes. */
    lastRate: real(),
    priorRate: real(),
    reason: text().notNull(),
    setAt: timestamptz().notNull(),
  },
  (table) => [primaryKey({ name: 'change_budgets_pkey', columns: [table.service, table.sprint] })],
);

export const deployments = pgTable(
  'deployments',
  {
    id: uuid().primaryKey().defaultRandom(),
    service: text().notNull(),
    environment: text().notNull(),
    status: deploymentStatus().notNull(),
    commitSha: text(),
    changeId: uuid().references(() => changes.id),
    startedAt: timestamptz(),
    finishedAt: timestamptz().notNull(),
    committedAt: timestamptz(),
    /** Commit to finish, in seconds: stored, so the lead-time percentiles sort it without computing it per row. */
    leadSeconds: doublePrecision().generatedAlwaysAs((): SQL => sql`extract(epoch from ${deployments.finishedAt} - ${deployments.committedAt})`),
    url: text(),
    /** Sent as unplanned (a hotfix, a rollback): counts toward the deployment rework rate, as an emergency change's deployment does. */
    unplanned: boolean().notNull().default(false),
    reportedBy: text().notNull(),
    createdAt: timestamptz().notNull(),
  },
  (table) => [
    index('deployments_service_finished_at_idx').on(table.service, table.environment, table.finishedAt),
    // Covers every column the all-services KPIs read, so they are an index-only scan of the window.
    index('deployments_environment_finished_at_covering_idx').on(
      table.environment,
      table.finishedAt,
      table.status,
      table.leadSeconds,
      table.changeId,
      table.unplanned,
      table.id,
    ),
    index('deployments_change_id_idx').on(table.changeId),
  ],
);

export type ChangeRow = typeof changes.$inferSelect;
export type ChangeVoteRow = typeof changeVotes.$inferSelect;
export type ChangeBudgetRow = typeof changeBudgets.$inferSelect;
export type DeploymentRow = typeof deployments.$inferSelect;
