import { and, asc, desc, eq, inArray, lt, lte, ne, notExists, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { preparedPerDatabase } from '../db/prepared';
import {
  type ChangeBudgetRow,
  type ChangeRow,
  changeAudit,
  changeBudgets,
  changeMessages,
  changes,
  changeVotes,
  type DeploymentRow,
  deployments,
} from '../db/schema';
import type { SprintOutcome } from './policy';

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

/** Open changes: waiting for approval, or approved and not yet deployed. */
/** Pending and approved changes, newest first; of one service when it is given. */
export async function listOpenChanges(db: Database, limit: number, service?: string): Promise<ChangeRow[]> {
  const open = inArray(changes.status, ['pending', 'approved']);
  return db
    .select()
    .from(changes)
    .where(service ? and(eq(changes.service, service), open) : open)
    .orderBy(desc(changes.requestedAt))
    .limit(limit);
}

/** Emergency changes whose retrospective review is not signed off. */
export async function listChangesAwaitingReview(db: Database, limit: number, service?: string): Promise<ChangeRow[]> {
  const awaiting = eq(changes.reviewRequired, true);
  return db
    .select()
    .from(changes)
    .where(service ? and(eq(changes.service, service), awaiting) : awaiting)
    .orderBy(asc(changes.requestedAt))
    .limit(limit);
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

/** Standard changes the policy approved for a service in a sprint: what its budget has paid for. */
export async function countPolicyApprovals(db: Database, service: string, sprint: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(changes)
    .where(and(eq(changes.service, service), eq(changes.sprint, sprint), eq(changes.approvedByPolicy, true)));
  return row?.count ?? 0;
}

/**
 * Outcomes per sprint: failed changes, and deployed changes that stayed clear of
 * incidents past the attribution window (deployed before `settledBefore`).
 */
export async function sprintOutcomes(db: Database, service: string, sprints: string[], settledBefore: Date): Promise<SprintOutcome[]> {
  if (sprints.length === 0) return [];
  const rows = await db
    .select({
      sprint: changes.sprint,
      succeeded: sql<number>`count(*) filter (where ${changes.status} = 'deployed' and ${lte(changes.deployedAt, settledBefore)})::int`,
      failed: sql<number>`count(*) filter (where ${changes.status} = 'failed')::int`,
    })
    .from(changes)
    .where(and(eq(changes.service, service), inArray(changes.sprint, sprints)))
    .groupBy(changes.sprint);
  return sprints.map((sprint) => {
    const row = rows.find((candidate) => candidate.sprint === sprint);
    return { sprint, succeeded: row?.succeeded ?? 0, failed: row?.failed ?? 0 };
  });
}

export async function findBudget(db: Database, service: string, sprint: string): Promise<ChangeBudgetRow | undefined> {
  const [row] = await db
    .select()
    .from(changeBudgets)
    .where(and(eq(changeBudgets.service, service), eq(changeBudgets.sprint, sprint)));
  return row;
}

export async function latestBudgetBefore(db: Database, service: string, sprint: string): Promise<ChangeBudgetRow | undefined> {
  const [row] = await db
    .select()
    .from(changeBudgets)
    .where(and(eq(changeBudgets.service, service), lt(changeBudgets.sprint, sprint)))
    .orderBy(desc(changeBudgets.sprint))
    .limit(1);
  return row;
}

/** Keeps the first budget set for a sprint; a concurrent evaluation reads that one. */
export async function insertBudget(db: Database, budget: typeof changeBudgets.$inferInsert): Promise<ChangeBudgetRow> {
  await db.insert(changeBudgets).values(budget).onConflictDoNothing();
  const stored = await findBudget(db, budget.service, budget.sprint);
  if (!stored) throw new Error('change budget insert returned nothing');
  return stored;
}

/** Holds a service's sprint budget until the transaction ends, so two evaluations never spend it twice. */
export async function lockBudget(db: Database, service: string, sprint: string): Promise<void> {
  await db
    .select({ budget: changeBudgets.budget })
    .from(changeBudgets)
    .where(and(eq(changeBudgets.service, service), eq(changeBudgets.sprint, sprint)))
    .for('update');
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
