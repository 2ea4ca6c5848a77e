import { and, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { type ChangeBudgetRow, changeBudgets, changes } from '../db/schema';
import type { SprintOutcome } from './policy';

/** Queries of change budgets: what the policy has spent of a sprint's budget and what it set. */

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

/** A change budget of the service set in the window, if any. */
export async function budgetSetIn(db: Database, service: string, window: { from: Date; to: Date }): Promise<ChangeBudgetRow | undefined> {
  const [budget] = await db
    .select()
    .from(changeBudgets)
    .where(and(eq(changeBudgets.service, service), gte(changeBudgets.setAt, window.from), lt(changeBudgets.setAt, window.to)))
    .limit(1);
  return budget;
}
