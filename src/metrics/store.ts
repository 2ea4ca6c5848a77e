import { and, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { productionEnvironments } from '../changes/model';
import type { Database } from '../db/client';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { changeBudgets, changes, deployments, incidents } from '../db/schema';
import type { Window } from './model';

/** KPI figures, each computed in one aggregate query: nothing is loaded row by row. */

const production = inArray(deployments.environment, [...productionEnvironments]);
const ofService = (column: AnyPgColumn, service: string | undefined): SQL | undefined =>
  service === undefined ? undefined : eq(column, service);
const seconds = (later: SQL | unknown, earlier: SQL | unknown) => sql`extract(epoch from ${later} - ${earlier})`;
const toNumber = (value: unknown) => (value === null || value === undefined ? null : Number(value));

export interface DeploymentFigures {
  deployments: number;
  total: number;
  failed: number;
  /** Rework: deployments of an emergency change, or sent as unplanned. */
  unplanned: number;
  leadTimes: number;
  leadMedianSeconds: number | null;
  leadP90Seconds: number | null;
}

/**
 * Production deployments finished in the window: successes, failures (a failed
 * deployment, one whose change later failed, or one an incident was linked to),
 * rework (of an emergency change, or sent as unplanned), and commit-to-deploy lead times.
 *
 * Two passes over the window, side by side on two connections, both read from a
 * covering index: the counts (which PostgreSQL may split across parallel workers;
 * failed and emergency changes and incident causes are small hashed sets, not a join)
 * and the lead times (both percentiles from one sort, which cannot run in parallel).
 */
export async function deploymentFigures(db: Database, window: Window, service?: string): Promise<DeploymentFigures> {
  const inWindow = and(production, gte(deployments.finishedAt, window.from), lt(deployments.finishedAt, window.to), ofService(deployments.service, service));
  // A lead time needs a commit time; the stored lead is null exactly when that is missing.
  const withLeadTime = sql`${deployments.status} = 'success' and ${deployments.leadSeconds} is not null`;
  const ofChanges = (condition: SQL) => sql`${deployments.changeId} in (select ${changes.id} from ${changes} where ${condition})`;
  const causedAnIncident = sql`${deployments.id} in (select ${incidents.causedByDeploymentId} from ${incidents} where ${incidents.causedByDeploymentId} is not null)`;
  const [[counts], [leads]] = await Promise.all([
    db
      .select({
        deployments: sql<number>`count(*) filter (where ${deployments.status} = 'success')::int`,
        total: sql<number>`count(*)::int`,
        failed: sql<number>`count(*) filter (where ${deployments.status} = 'failure' or ${ofChanges(sql`${changes.status} = 'failed'`)} or ${causedAnIncident})::int`,
        unplanned: sql<number>`count(*) filter (where ${deployments.unplanned} or ${ofChanges(sql`${changes.type} = 'emergency'`)})::int`,
      })
      .from(deployments)
      .where(inWindow),
    db
      .select({
        count: sql<number>`count(*)::int`,
        percentiles: sql<number[] | null>`percentile_cont(array[0.5, 0.9]::float8[]) within group (order by ${deployments.leadSeconds})`,
      })
      .from(deployments)
      .where(and(inWindow, withLeadTime)),
  ]);
  return {
    deployments: counts?.deployments ?? 0,
    total: counts?.total ?? 0,
    failed: counts?.failed ?? 0,
    unplanned: counts?.unplanned ?? 0,
    leadTimes: leads?.count ?? 0,
    leadMedianSeconds: toNumber(leads?.percentiles?.[0]),
    leadP90Seconds: toNumber(leads?.percentiles?.[1]),
  };
}

export interface IncidentFigures {
  severity: number;
  declared: number;
  resolved: number;
  medianRestoreSeconds: number | null;
  meanRestoreSeconds: number | null;
}

/** Per severity: incidents declared in the window, and those resolved in it with their time to restore. */
export async function incidentFigures(db: Database, window: Window, service?: string): Promise<IncidentFigures[]> {
  const restore = seconds(incidents.resolvedAt, incidents.declaredAt);
  const resolvedInWindow = sql`${incidents.resolvedAt} >= ${window.from.toISOString()}::timestamptz and ${incidents.resolvedAt} < ${window.to.toISOString()}::timestamptz`;
  const declaredInWindow = sql`${incidents.declaredAt} >= ${window.from.toISOString()}::timestamptz and ${incidents.declaredAt} < ${window.to.toISOString()}::timestamptz`;
  const rows = await db
    .select({
      severity: incidents.severity,
      declared: sql<number>`count(*) filter (where ${declaredInWindow})::int`,
      resolved: sql<number>`count(*) filter (where ${resolvedInWindow})::int`,
      median: sql<string | null>`percentile_cont(0.5) within group (order by ${restore}) filter (where ${resolvedInWindow})`,
      mean: sql<string | null>`avg(${restore}) filter (where ${resolvedInWindow})`,
    })
    .from(incidents)
    .where(and(sql`(${declaredInWindow} or ${resolvedInWindow})`, ofService(incidents.service, service)))
    .groupBy(incidents.severity)
    .orderBy(incidents.severity);
  return rows.map((row) => ({
    severity: row.severity,
    declared: row.declared,
    resolved: row.resolved,
    medianRestoreSeconds: toNumber(row.median),
    meanRestoreSeconds: toNumber(row.mean),
  }));
}

/** Time to restore over all severities: the median of incidents resolved in the window. */
export async function restoreFigures(db: Database, window: Window, service?: string): Promise<{ incidents: number; medianSeconds: number | null }> {
  const [row] = await db
    .select({
      incidents: sql<number>`count(*)::int`,
      median: sql<string | null>`percentile_cont(0.5) within group (order by ${seconds(incidents.resolvedAt, incidents.declaredAt)})`,
    })
    .from(incidents)
    .where(and(gte(incidents.resolvedAt, window.from), lt(incidents.resolvedAt, window.to), ofService(incidents.service, service)));
  return { incidents: row?.incidents ?? 0, medianSeconds: toNumber(row?.median) };
}

/**
 * Changes whose outcome fell in the window: deployed and clear of incidents past the
 * attribution window (deployed before `settledBefore`), or failed.
 */
export async function changeOutcomeFigures(
  db: Database,
  window: Window,
  settledBefore: Date,
  service?: string,
): Promise<{ succeeded: number; failed: number }> {
  const deployedInWindow = and(eq(changes.status, 'deployed'), gte(changes.deployedAt, window.from), lt(changes.deployedAt, window.to));
  const failedInWindow = and(eq(changes.status, 'failed'), gte(changes.failedAt, window.from), lt(changes.failedAt, window.to));
  const [row] = await db
    .select({
      succeeded: sql<number>`count(*) filter (where ${deployedInWindow} and ${lt(changes.deployedAt, settledBefore)})::int`,
      failed: sql<number>`count(*) filter (where ${failedInWindow})::int`,
    })
    .from(changes)
    .where(and(sql`(${deployedInWindow} or ${failedInWindow})`, ofService(changes.service, service)));
  return { succeeded: row?.succeeded ?? 0, failed: row?.failed ?? 0 };
}

/** Each sprint's change budget for a service and the standard changes the policy approved against it. */
export async function budgetFigures(db: Database, service: string, sprints: string[]): Promise<Array<{ sprint: string; budget: number; used: number }>> {
  if (sprints.length === 0) return [];
  const used = db
    .select({ sprint: changes.sprint, used: sql<number>`count(*)::int`.as('used') })
    .from(changes)
    .where(and(eq(changes.service, service), eq(changes.approvedByPolicy, true), inArray(changes.sprint, sprints)))
    .groupBy(changes.sprint)
    .as('used');
  const rows = await db
    .select({ sprint: changeBudgets.sprint, budget: changeBudgets.budget, used: sql<number>`coalesce(${used.used}, 0)::int` })
    .from(changeBudgets)
    .leftJoin(used, eq(used.sprint, changeBudgets.sprint))
    .where(and(eq(changeBudgets.service, service), inArray(changeBudgets.sprint, sprints)))
    .orderBy(changeBudgets.sprint);
  return rows;
}
