import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { changes, deployments } from './changes';
import { timestamptz } from './columns';

/**
 * Every webhook GitHub delivered with a valid signature, recorded before it is
 * answered; the work it asks for happens after, and a delivery whose work failed
 * (or whose instance stopped) is picked up again by the reconcile job.
 */
export const githubDeliveries = pgTable(
  'github_deliveries',
  {
    /** `X-GitHub-Delivery`; a redelivery carries the same one. */
    id: text().primaryKey(),
    event: text().notNull(),
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    receivedAt: timestamptz().notNull(),
    processedAt: timestamptz(),
    attempts: integer().notNull().default(0),
    lastError: text(),
  },
  (table) => [index('github_deliveries_unprocessed_idx').on(table.receivedAt).where(sql`${table.processedAt} is null`)],
);

/** A workflow run's environment held by Tandem's protection rule, and the change that decides it. */
export const githubGates = pgTable(
  'github_gates',
  {
    id: uuid().primaryKey().defaultRandom(),
    /** `owner/name` as GitHub spells it. */
    repository: text().notNull(),
    runId: bigint({ mode: 'number' }).notNull(),
    /** The GitHub environment's name, as the callback must repeat it. */
    environment: text().notNull(),
    installationId: bigint({ mode: 'number' }).notNull(),
    /** Where the decision goes: the run's deployment protection rule callback, as a path under the API URL. */
    callbackPath: text().notNull(),
    changeId: uuid()
      .notNull()
      .references(() => changes.id),
    sha: text().notNull(),
    createdAt: timestamptz().notNull(),
  },
  (table) => [
    uniqueIndex('github_gates_run_id_environment_key').on(table.runId, table.environment),
    uniqueIndex('github_gates_change_id_key').on(table.changeId),
    index('github_gates_sha_idx').on(table.sha),
  ],
);

export const githubCallStatus = pgEnum('github_call_status', ['pending', 'sent', 'settled', 'failed']);

/**
 * Calls to GitHub that must not be lost (a gate's decision, its status comment),
 * sent by a worker that retries 5xx and network errors with backoff. `settled`:
 * GitHub answered that there was nothing left to do (422, already decided).
 */
export const githubCalls = pgTable(
  'github_calls',
  {
    id: bigint({ mode: 'number' }).generatedAlwaysAsIdentity().primaryKey(),
    dedupKey: text().notNull(),
    /** Calls of one gate are sent in order, so a status comment never follows the decision. */
    gateId: uuid()
      .notNull()
      .references(() => githubGates.id),
    kind: text().$type<'decision' | 'status'>().notNull(),
    installationId: bigint({ mode: 'number' }).notNull(),
    method: text().notNull(),
    path: text().notNull(),
    body: jsonb().$type<Record<string, unknown>>().notNull(),
    status: githubCallStatus().notNull().default('pending'),
    attempts: integer().notNull().default(0),
    notBefore: timestamptz().notNull(),
    lockedUntil: timestamptz(),
    lastError: text(),
    createdAt: timestamptz().notNull(),
    sentAt: timestamptz(),
  },
  (table) => [
    uniqueIndex('github_calls_dedup_key_key').on(table.dedupKey),
    index('github_calls_pending_gate_idx').on(table.gateId, table.id).where(sql`${table.status} = 'pending'`),
  ],
);

/** Each `deployment_status` recorded once, however often GitHub delivers it. */
export const githubDeploymentStatuses = pgTable('github_deployment_statuses', {
  /** GitHub's deployment status ID. */
  id: bigint({ mode: 'number' }).primaryKey(),
  deploymentId: uuid().references(() => deployments.id),
  recordedAt: timestamptz().notNull(),
});

export type GitHubDeliveryRow = typeof githubDeliveries.$inferSelect;
export type GitHubGateRow = typeof githubGates.$inferSelect;
export type GitHubCallRow = typeof githubCalls.$inferSelect;
