import { and, asc, desc, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client';
import { leaseFree } from '../db/lease';
import {
  type GitHubCallRow,
  type GitHubDeliveryRow,
  type GitHubGateRow,
  githubCalls,
  githubDeliveries,
  githubDeploymentStatuses,
  githubGates,
} from '../db/schema';

/** The GitHub gate's tables: deliveries received, gates held, calls to make, deployment statuses recorded. */

/** Records a delivery; false when it was already recorded (a redelivery). */
export async function recordDelivery(db: Database, delivery: { id: string; event: string; payload: Record<string, unknown>; receivedAt: Date }): Promise<boolean> {
  const inserted = await db.insert(githubDeliveries).values(delivery).onConflictDoNothing().returning({ id: githubDeliveries.id });
  return inserted.length > 0;
}

export async function findDelivery(db: Database, id: string): Promise<GitHubDeliveryRow | undefined> {
  const [row] = await db.select().from(githubDeliveries).where(eq(githubDeliveries.id, id));
  return row;
}

export async function noteDeliveryAttempt(db: Database, id: string): Promise<void> {
  await db.update(githubDeliveries).set({ attempts: sql`${githubDeliveries.attempts} + 1` }).where(eq(githubDeliveries.id, id));
}

export async function markDeliveryProcessed(db: Database, id: string, at: Date, note: string | null = null): Promise<void> {
  await db.update(githubDeliveries).set({ processedAt: at, lastError: note }).where(eq(githubDeliveries.id, id));
}

export async function noteDeliveryError(db: Database, id: string, error: string): Promise<void> {
  await db.update(githubDeliveries).set({ lastError: error }).where(eq(githubDeliveries.id, id));
}

/** Deliveries whose work has not finished, received before `before`, that have not been tried too often. */
export async function unprocessedDeliveries(db: Database, before: Date, maxAttempts: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: githubDeliveries.id })
    .from(githubDeliveries)
    .where(and(isNull(githubDeliveries.processedAt), lt(githubDeliveries.receivedAt, before), lt(githubDeliveries.attempts, maxAttempts)))
    .orderBy(asc(githubDeliveries.receivedAt))
    .limit(limit);
  return rows.map((row) => row.id);
}

/** Deliveries done before `before` are only kept for inspection; their payloads go after a while. */
export async function pruneProcessedDeliveries(db: Database, before: Date): Promise<void> {
  await db.delete(githubDeliveries).where(lt(githubDeliveries.processedAt, before));
}

export async function insertGate(db: Database, gate: typeof githubGates.$inferInsert): Promise<GitHubGateRow> {
  await db.insert(githubGates).values(gate).onConflictDoNothing();
  const found = await findGate(db, gate.runId, gate.environment);
  if (!found) throw new Error(`gate of run ${gate.runId} (${gate.environment}) was neither inserted nor found`);
  return found;
}

export async function findGate(db: Database, runId: number, environment: string): Promise<GitHubGateRow | undefined> {
  const [row] = await db
    .select()
    .from(githubGates)
    .where(and(eq(githubGates.runId, runId), eq(githubGates.environment, environment)));
  return row;
}

export async function findGateOfChange(db: Database, changeId: string): Promise<GitHubGateRow | undefined> {
  const [row] = await db.select().from(githubGates).where(eq(githubGates.changeId, changeId));
  return row;
}

/** The gate a deployment carried out: its run's gate for the environment, else the latest gate of the commit there. */
export async function findGateOfDeployment(db: Database, query: { runId?: number; environment: string; sha: string }): Promise<GitHubGateRow | undefined> {
  if (query.runId !== undefined) {
    const byRun = await findGate(db, query.runId, query.environment);
    if (byRun) return byRun;
  }
  const [row] = await db
    .select()
    .from(githubGates)
    .where(and(eq(githubGates.sha, query.sha), sql`lower(${githubGates.environment}) = lower(${query.environment})`))
    .orderBy(desc(githubGates.createdAt))
    .limit(1);
  return row;
}

/** Gates created since `since` whose decision was not queued yet (a change event this instance missed is caught up). */
export async function gatesWithoutDecision(db: Database, since: Date, limit: number): Promise<GitHubGateRow[]> {
  const decision = alias(githubCalls, 'decision');
  const rows = await db
    .select({ gate: githubGates })
    .from(githubGates)
    .leftJoin(decision, and(eq(decision.gateId, githubGates.id), eq(decision.kind, 'decision')))
    .where(and(isNull(decision.id), lte(sql`${since.toISOString()}::timestamptz`, githubGates.createdAt)))
    .orderBy(asc(githubGates.createdAt))
    .limit(limit);
  return rows.map((row) => row.gate);
}

export type NewCall = Omit<typeof githubCalls.$inferInsert, 'id' | 'status' | 'attempts'>;

/**
 * Queues a call. A status comment is queued only while the gate's decision is not,
 * so a run never shows "waiting" after it was decided; the dedup key drops repeats.
 */
export async function queueCall(db: Database, call: NewCall): Promise<boolean> {
  if (call.kind === 'status') {
    const [decided] = await db
      .select({ id: githubCalls.id })
      .from(githubCalls)
      .where(and(eq(githubCalls.gateId, call.gateId), eq(githubCalls.kind, 'decision')))
      .limit(1);
    if (decided) return false;
  }
  const inserted = await db.insert(githubCalls).values(call).onConflictDoNothing({ target: githubCalls.dedupKey }).returning({ id: githubCalls.id });
  return inserted.length > 0;
}

/** Claims due calls that are the oldest pending call of their gate, with a lease, as the Slack outbox does per channel. */
export async function claimDueCalls(db: Database, now: Date, leaseUntil: Date, limit: number): Promise<GitHubCallRow[]> {
  const head = alias(githubCalls, 'head');
  const oldestOfGate = db
    .select({ id: sql`min(${head.id})` })
    .from(head)
    .where(and(eq(head.gateId, githubCalls.gateId), eq(head.status, 'pending')));
  const due = db
    .select({ id: githubCalls.id })
    .from(githubCalls)
    .where(
      and(
        eq(githubCalls.status, 'pending'),
        lte(githubCalls.notBefore, now),
        leaseFree(githubCalls.lockedUntil, now),
        eq(githubCalls.id, oldestOfGate),
      ),
    )
    .orderBy(githubCalls.id)
    .limit(limit)
    .for('update', { skipLocked: true });
  const claimed = await db
    .update(githubCalls)
    .set({ lockedUntil: leaseUntil, attempts: sql`${githubCalls.attempts} + 1` })
    .where(inArray(githubCalls.id, due))
    .returning();
  return claimed.sort((a, b) => a.id - b.id);
}

export async function renewCallLeases(db: Database, ids: number[], until: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(githubCalls)
    .set({ lockedUntil: until })
    .where(and(inArray(githubCalls.id, ids), eq(githubCalls.status, 'pending')));
}

export async function settleCall(
  db: Database,
  id: number,
  patch: { status: 'sent' | 'settled' | 'failed'; at: Date; error?: string } | { status: 'pending'; notBefore: Date; error: string },
): Promise<void> {
  if (patch.status === 'pending') {
    await db.update(githubCalls).set({ notBefore: patch.notBefore, lockedUntil: null, lastError: patch.error }).where(eq(githubCalls.id, id));
    return;
  }
  await db
    .update(githubCalls)
    .set({ status: patch.status, sentAt: patch.at, lockedUntil: null, lastError: patch.error ?? null })
    .where(eq(githubCalls.id, id));
}

export async function listCalls(db: Database, gateId: string): Promise<GitHubCallRow[]> {
  return db.select().from(githubCalls).where(eq(githubCalls.gateId, gateId)).orderBy(asc(githubCalls.id));
}

/** Claims a deployment status for recording; false when it was recorded already. */
export async function claimDeploymentStatus(db: Database, id: number, at: Date): Promise<boolean> {
  const inserted = await db.insert(githubDeploymentStatuses).values({ id, recordedAt: at }).onConflictDoNothing().returning({ id: githubDeploymentStatuses.id });
  return inserted.length > 0;
}

export async function noteDeploymentRecorded(db: Database, id: number, deploymentId: string): Promise<void> {
  await db.update(githubDeploymentStatuses).set({ deploymentId }).where(eq(githubDeploymentStatuses.id, id));
}

export async function releaseDeploymentStatus(db: Database, id: number): Promise<void> {
  await db.delete(githubDeploymentStatuses).where(eq(githubDeploymentStatuses.id, id));
}
