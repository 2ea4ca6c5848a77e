import { and, asc, desc, eq, gte, inArray, lt, lte, ne, notExists, or, type SQL, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client';
import { preparedPerDatabase } from '../db/prepared';
import { hourMs } from '../time';
import type { ListedChange } from './model';
import {
  type ChangeRow,
  changeAudit,
  changeMessages,
  changes,
  changeVotes,
  type DeploymentRow,
  deployments,
} from '../db/schema';

// The change budget's queries have their own file; the domain's storage is still reached through this one.
export {
  changesAwaitingReview,
  type ChangeListQuery,
  type ConflictRow,
  findConflictRows,
  listChanges,
  listOverlappingOpenChanges,
  pendingNormalChanges,
  plannedChangesByDay,
} from './calendar-store';
export { budgetSetIn, countPolicyApprovals, findBudget, insertBudget, latestBudgetBefore, lockBudget, sprintOutcomes } from './budget-store';

export type NewChange = typeof changes.$inferInsert;
export type ChangePatch = Partial<Omit<NewChange, 'id' | 'number'>>;

export async function insertChange(db: Database, values: NewChange): Promise<ChangeRow | undefined> {
  const [row] = await db.insert(changes).values(values).onConflictDoNothing().returning();
  return row;
}

const changeById = preparedPerDatabase((db) =>
  db.select().from(changes).where(eq(changes.id, sql.placeholder('id'))).prepare('change_by_id'),
);
const changeByNumber = preparedPerDatabase((db) =>
  db.select().from(changes).where(eq(changes.number, sql.placeholder('number'))).prepare('change_by_number'),
);

export async function findChangeById(db: Database, id: string): Promise<ChangeRow | undefined> {
  const [row] = await changeById(db).execute({ id });
  return row;
}

export async function findChangeByNumber(db: Database, number: number): Promise<ChangeRow | undefined> {
  const [row] = await changeByNumber(db).execute({ number });
  return row;
}

export async function findChangeByRequestKey(db: Database, requestKey: string): Promise<ChangeRow | undefined> {
  const [row] = await db.select().from(changes).where(eq(changes.requestKey, requestKey));
  return row;
}

/** Reads the change and locks its row until the transaction ends: votes and decisions apply one at a time. */
export async function lockChange(tx: Database, id: string): Promise<ChangeRow | undefined> {
  const [row] = await tx.select().from(changes).where(eq(changes.id, id)).for('update');
  return row;
}

export async function updateChange(db: Database, id: string, patch: ChangePatch): Promise<ChangeRow> {
  const [row] = await db.update(changes).set(patch).where(eq(changes.id, id)).returning();
  if (!row) throw new Error(`change ${id} vanished during an update`);
  return row;
}

/**
 * What `/change list` shows, in one statement: open changes (waiting for approval,
 * or approved and not yet deployed) newest first, and emergency changes whose
 * retrospective review is not signed off, oldest first; at most `limit` of each.
 * Prepared once per database, for every service and for one.
 */
const openChangesAndReviews = preparedPerDatabase((db) => {
  const statement = (inService: SQL | undefined, name: string) => {
    const { number, title, service, environment, status, requestedBy, plannedStart, plannedEnd, conflicts } = changes;
    const listed = (list: 'open' | 'review') => ({ number, title, service, environment, status, requestedBy, plannedStart, plannedEnd, conflicts, list: sql<typeof list>`${list}::text`.as('list') });
    const open = db
      .select(listed('open'))
      .from(changes)
      .where(and(inArray(changes.status, ['pending', 'approved']), inService))
      .orderBy(desc(changes.requestedAt))
      .limit(sql.placeholder('limit'));
    const awaitingReview = db
      .select(listed('review'))
      .from(changes)
      .where(and(eq(changes.reviewRequired, true), inService))
      .orderBy(asc(changes.requestedAt))
      .limit(sql.placeholder('limit'));
    return unionAll(open, awaitingReview).prepare(name);
  };
  return {
    all: statement(undefined, 'open_changes_and_reviews'),
    ofService: statement(eq(changes.service, sql.placeholder('service')), 'open_changes_and_reviews_of_service'),
  };
});

export async function listOpenChangesAndReviews(db: Database, limit: number, service?: string): Promise<{ open: ListedChange[]; awaitingReview: ListedChange[] }> {
  const statements = openChangesAndReviews(db);
  const rows = await (service === undefined ? statements.all.execute({ limit }) : statements.ofService.execute({ limit, service }));
  const listed = { open: [] as ListedChange[], awaitingReview: [] as ListedChange[] };
  for (const { list, ...change } of rows) (list === 'open' ? listed.open : listed.awaitingReview).push(change);
  return listed;
}

/** Recent changes that may have caused an incident (approved, deployed or failed), of one service or all. */
export async function listRecentChanges(db: Database, service: string | null, limit: number): Promise<ChangeRow[]> {
  const mayHaveCaused = inArray(changes.status, ['approved', 'deployed', 'failed']);
  return db
    .select()
    .from(changes)
    .where(service ? and(eq(changes.service, service), mayHaveCaused) : mayHaveCaused)
    .orderBy(desc(changes.requestedAt))
    .limit(limit);
}

/** Records a vote; undefined when this person already voted on this change. */
export async function insertVote(db: Database, vote: typeof changeVotes.$inferInsert) {
  const [row] = await db.insert(changeVotes).values(vote).onConflictDoNothing().returning();
  return row;
}

export async function listVotes(db: Database, changeId: string) {
  return db.select().from(changeVotes).where(eq(changeVotes.changeId, changeId)).orderBy(asc(changeVotes.at));
}

export async function appendAudit(db: Database, entry: typeof changeAudit.$inferInsert): Promise<void> {
  await db.insert(changeAudit).values(entry);
}

export async function recordChangeMessage(db: Database, message: typeof changeMessages.$inferInsert): Promise<void> {
  await db.insert(changeMessages).values(message).onConflictDoNothing();
}

export async function listChangeMessages(db: Database, changeId: string) {
  return db.select().from(changeMessages).where(eq(changeMessages.changeId, changeId));
}

/** Pending changes whose approvers have not been nudged for `interval`, claimed so one instance sends each reminder. */
export async function claimDueReminders(db: Database, now: Date, due: (change: ChangeRow) => boolean): Promise<ChangeRow[]> {
  const candidates = await db.select().from(changes).where(eq(changes.status, 'pending'));
  const claimed: ChangeRow[] = [];
  for (const change of candidates.filter(due)) {
    const [row] = await db
      .update(changes)
      .set({ lastRemindedAt: now })
      .where(
        and(
          eq(changes.id, change.id),
          eq(changes.status, 'pending'),
          change.lastRemindedAt ? eq(changes.lastRemindedAt, change.lastRemindedAt) : sql`${changes.lastRemindedAt} is null`,
        ),
      )
      .returning();
    if (row) claimed.push(row);
  }
  return claimed;
}

/** Pending changes requested at or before `cutoff`, oldest first. */
export async function listPendingRequestedBefore(db: Database, cutoff: Date): Promise<ChangeRow[]> {
  return db
    .select()
    .from(changes)
    .where(and(eq(changes.status, 'pending'), lte(changes.requestedAt, cutoff)))
    .orderBy(asc(changes.requestedAt));
}

/**
 * A service's changes that may have caused an incident declared now: approved, deployed
 * or failed, and decided, deployed or failed since `since`. Newest first, at most `limit`.
 */
export async function listChangesActiveSince(db: Database, service: string, since: Date, limit: number): Promise<ChangeRow[]> {
  const latest = sql`greatest(${changes.decidedAt}, ${changes.deployedAt}, ${changes.failedAt})`;
  return db
    .select()
    .from(changes)
    .where(
      and(
        eq(changes.service, service),
        inArray(changes.status, ['approved', 'deployed', 'failed']),
        or(gte(changes.decidedAt, since), gte(changes.deployedAt, since), gte(changes.failedAt, since)),
      ),
    )
    .orderBy(desc(latest), desc(changes.number))
    .limit(limit);
}

/** A service's deployments (any environment) finished since `since`, newest first, at most `limit`. */
export async function listDeploymentsSince(db: Database, service: string, since: Date, limit: number): Promise<DeploymentRow[]> {
  return db
    .select()
    .from(deployments)
    .where(and(eq(deployments.service, service), gte(deployments.finishedAt, since)))
    .orderBy(desc(deployments.finishedAt), desc(deployments.id))
    .limit(limit);
}

export async function findDeployment(db: Database, id: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
  return row;
}

export async function insertDeployment(db: Database, values: typeof deployments.$inferInsert): Promise<DeploymentRow> {
  const [row] = await db.insert(deployments).values(values).returning();
  if (!row) throw new Error('deployment insert returned nothing');
  return row;
}

/**
 * The pending changes one person may still vote on: of the services they approve,
 * not requested by them, not voted on by them. The exact count, and the oldest few.
 * This is `mayVote` (model.ts) in SQL, so the Home counts in one query: `services`
 * is `votableServices` (the approver half), `requested_by <> voter` the other half.
 */
export async function pendingApprovalsFor(
  db: Database,
  params: { voter: string; services: string[]; limit: number },
): Promise<{ total: number; oldest: ChangeRow[] }> {
  if (params.services.length === 0) return { total: 0, oldest: [] };
  const awaiting = and(
    eq(changes.status, 'pending'),
    inArray(changes.service, params.services),
    ne(changes.requestedBy, params.voter),
    notExists(
      db
        .select({ one: sql`1` })
        .from(changeVotes)
        .where(and(eq(changeVotes.changeId, changes.id), eq(changeVotes.voter, params.voter))),
    ),
  );
  const [counted, oldest] = await Promise.all([
    db.select({ total: sql<number>`count(*)::int` }).from(changes).where(awaiting),
    db.select().from(changes).where(awaiting).orderBy(asc(changes.requestedAt), asc(changes.number)).limit(params.limit),
  ]);
  return { total: counted[0]?.total ?? 0, oldest };
}

/** A NOTIFY on `channel`, delivered to listeners when the transaction commits. */
export async function notify(tx: Database, channel: string, payload: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${channel}, ${payload})`);
}

export type BoardColumn = 'requested' | 'approved' | 'deployed' | 'succeeded' | 'failed';
export type Board = Record<BoardColumn, { total: number; latest: ChangeRow[] }>;

const onBoard = ['pending', 'approved', 'deployed', 'failed'] as const;

/**
 * The sprint's change board (the Home shows it): exact counts per column, and the
 * latest few changes of each. A deployed change counts as succeeded once its
 * service's attribution window has passed (`settledAfterHours`, per service) without an incident.
 */
export async function sprintBoard(
  db: Database,
  currentSprints: Map<string, string>,
  settledAfterHours: (service: string) => number,
  now: Date,
  perColumn: number,
): Promise<Board> {
  // Each service's changes of its own current sprint.
  const pairs = [...currentSprints].map(([service, sprint]) => sql`(${service}, ${sprint})`);
  const scope = pairs.length > 0 ? sql`(${changes.service}, ${changes.sprint}) in (${sql.join(pairs, sql`, `)})` : sql`false`;
  const counts = await db
    .select({ service: changes.service, status: changes.status, total: sql<number>`count(*)::int` })
    .from(changes)
    .where(and(scope, inArray(changes.status, [...onBoard])))
    .groupBy(changes.service, changes.status);
  const board: Board = {
    requested: { total: 0, latest: [] },
    approved: { total: 0, latest: [] },
    deployed: { total: 0, latest: [] },
    succeeded: { total: 0, latest: [] },
    failed: { total: 0, latest: [] },
  };
  const columnOf: Record<(typeof onBoard)[number], BoardColumn> = { pending: 'requested', approved: 'approved', deployed: 'deployed', failed: 'failed' };
  const deployedServices: string[] = [];
  for (const row of counts) {
    if (row.status === 'deployed') deployedServices.push(row.service);
    else board[columnOf[row.status as (typeof onBoard)[number]]].total += row.total;
  }
  // Deployed changes split by each service's own attribution window.
  for (const service of deployedServices) {
    const cutoff = new Date(now.getTime() - settledAfterHours(service) * hourMs);
    const [split] = await db
      .select({
        settled: sql<number>`count(*) filter (where ${changes.deployedAt} <= ${cutoff.toISOString()}::timestamptz)::int`,
        total: sql<number>`count(*)::int`,
      })
      .from(changes)
      .where(and(eq(changes.sprint, currentSprints.get(service) ?? ''), eq(changes.service, service), eq(changes.status, 'deployed')));
    board.succeeded.total += split?.settled ?? 0;
    board.deployed.total += (split?.total ?? 0) - (split?.settled ?? 0);
  }
  for (const status of onBoard) {
    const latest = await db
      .select()
      .from(changes)
      .where(and(scope, eq(changes.status, status)))
      .orderBy(desc(changes.updatedAt))
      .limit(status === 'deployed' ? perColumn * 2 : perColumn);
    for (const change of latest) {
      const column =
        status === 'deployed'
          ? (change.deployedAt?.getTime() ?? now.getTime()) <= now.getTime() - settledAfterHours(change.service) * hourMs
            ? 'succeeded'
            : 'deployed'
          : columnOf[status];
      if (board[column].latest.length < perColumn) board[column].latest.push(change);
    }
  }
  return board;
}

/** A service's changes that failed in the window (the improvement report lists them), at most `limit`. */
export async function failedChangesIn(db: Database, service: string, window: { from: Date; to: Date }, limit: number): Promise<ChangeRow[]> {
  return db
    .select()
    .from(changes)
    .where(and(eq(changes.service, service), eq(changes.status, 'failed'), gte(changes.failedAt, window.from), lt(changes.failedAt, window.to)))
    .limit(limit);
}
