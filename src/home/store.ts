import { and, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { type ChangeRow, changes, type IncidentRow, incidents } from '../db/schema';

export type BoardColumn = 'requested' | 'approved' | 'deployed' | 'succeeded' | 'failed';
export type Board = Record<BoardColumn, { total: number; latest: ChangeRow[] }>;

const onBoard = ['pending', 'approved', 'deployed', 'failed'] as const;

/**
 * The sprint's change board: exact counts per column, and the latest few changes
 * of each. A deployed change counts as succeeded once its service's attribution
 * window has passed (`settledAfterHours`, per service) without an incident.
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
    const cutoff = new Date(now.getTime() - settledAfterHours(service) * 3_600_000);
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
          ? (change.deployedAt?.getTime() ?? now.getTime()) <= now.getTime() - settledAfterHours(change.service) * 3_600_000
            ? 'succeeded'
            : 'deployed'
          : columnOf[status];
      if (board[column].latest.length < perColumn) board[column].latest.push(change);
    }
  }
  return board;
}

/**
 * Open incidents as one person may see them, newest first. A private incident is
 * theirs to see only when Tandem knows them to be in its channel: they declared it
 * or command it (both were invited). Others count private incidents, never read them.
 */
export async function openIncidentsFor(
  db: Database,
  viewer: string,
  limit: number,
): Promise<{ total: number; latest: IncidentRow[]; hiddenPrivate: number }> {
  const open = ne(incidents.status, 'resolved');
  // `is not distinct from` keeps an incident without a commander a plain false, never null.
  const seenBy = sql`(not ${incidents.private} or ${incidents.declaredBy} = ${viewer} or ${incidents.commander} is not distinct from ${viewer})`;
  const [counted, latest] = await Promise.all([
    db
      .select({
        total: sql<number>`count(*)::int`,
        hiddenPrivate: sql<number>`count(*) filter (where not (${seenBy}))::int`,
      })
      .from(incidents)
      .where(open),
    db.select().from(incidents).where(and(open, seenBy)).orderBy(desc(incidents.declaredAt)).limit(limit),
  ]);
  return { total: counted[0]?.total ?? 0, latest, hiddenPrivate: counted[0]?.hiddenPrivate ?? 0 };
}
