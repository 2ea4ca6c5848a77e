import { and, asc, desc, eq, gt, inArray, lt, lte, ne, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { type ChangeRow, changes, incidents } from '../db/schema';

/** Queries of planned windows: conflicts, the calendar and the list of `GET /changes`. Reached through store.ts. */

const open = inArray(changes.status, ['pending', 'approved']);

/** Open changes of `service` whose window overlaps [start, end), half-open; `except` leaves one change out. */
const overlappingOpen = (service: string, window: { start: Date; end: Date }, except: string) =>
  and(
    eq(changes.service, service),
    open,
    sql`${changes.plannedStart} is not null`,
    lt(changes.plannedStart, window.end),
    gt(changes.plannedEnd, window.start),
    ne(changes.id, except),
  );

export interface ConflictRow {
  kind: 'change' | 'incident';
  number: number;
  title: string;
  status: string;
  severity: number | null;
  private: boolean;
  plannedStart: Date | null;
  plannedEnd: Date | null;
}

/**
 * What a change conflicts with, in one query: the service's other open changes whose
 * window overlaps its own (none without a window), and the service's open SEV1 and
 * SEV2 incidents. Both halves read partial indexes of open rows only, so the table's
 * closed history does not slow it down.
 */
export async function findConflictRows(
  db: Database,
  params: { changeId: string; service: string; window?: { start: Date; end: Date }; limit: number },
): Promise<ConflictRow[]> {
  const incidentRows = db
    .select({
      kind: sql<'change' | 'incident'>`'incident'`.as('kind'),
      number: incidents.number,
      title: incidents.title,
      status: sql<string>`${incidents.status}::text`.as('status'),
      severity: sql<number | null>`${incidents.severity}::int`.as('severity'),
      private: incidents.private,
      plannedStart: sql<Date | null>`null::timestamptz`.mapWith(changes.plannedStart).as('planned_start'),
      plannedEnd: sql<Date | null>`null::timestamptz`.mapWith(changes.plannedEnd).as('planned_end'),
    })
    .from(incidents)
    .where(and(eq(incidents.service, params.service), ne(incidents.status, 'resolved'), lte(incidents.severity, 2)));
  if (!params.window) return (await incidentRows.orderBy(asc(incidents.number)).limit(params.limit)) as ConflictRow[];
  const changeRows = db
    .select({
      kind: sql<'change' | 'incident'>`'change'`.as('kind'),
      number: changes.number,
      title: changes.title,
      status: sql<string>`${changes.status}::text`.as('status'),
      severity: sql<number | null>`null::int`.as('severity'),
      private: sql<boolean>`false`.as('private'),
      plannedStart: changes.plannedStart,
      plannedEnd: changes.plannedEnd,
    })
    .from(changes)
    .where(overlappingOpen(params.service, params.window, params.changeId));
  const rows = await changeRows.unionAll(incidentRows).limit(params.limit);
  return rows.map((row) => ({
    ...row,
    plannedStart: row.plannedStart ? new Date(row.plannedStart) : null,
    plannedEnd: row.plannedEnd ? new Date(row.plannedEnd) : null,
  })) as ConflictRow[];
}

/** The open changes whose conflicts name this one: the service's open changes overlapping its window. */
export async function listOverlappingOpenChanges(db: Database, change: ChangeRow, limit: number): Promise<ChangeRow[]> {
  if (!change.plannedStart || !change.plannedEnd) return [];
  return db
    .select()
    .from(changes)
    .where(overlappingOpen(change.service, { start: change.plannedStart, end: change.plannedEnd }, change.id))
    .orderBy(asc(changes.plannedStart))
    .limit(limit);
}

/**
 * Pending and approved changes planned in [from, to), at most `perDay` of each day
 * (the day a change starts in `timeZone`, or the first day for one already under
 * way), with each day's full count. One query however many changes there are.
 */
export async function plannedChangesByDay(
  db: Database,
  params: { from: Date; to: Date; timeZone: string; service?: string; perDay: number },
): Promise<{ day: string; total: number; change: ChangeRow }[]> {
  const from = params.from.toISOString();
  const day = sql`to_char(greatest(${changes.plannedStart}, ${from}::timestamptz) at time zone ${params.timeZone}, 'YYYY-MM-DD')`;
  const ranked = db
    .select({
      id: changes.id,
      day: sql<string>`${day}`.as('day'),
      rank: sql<number>`row_number() over (partition by ${day} order by ${changes.plannedStart}, ${changes.number})`.as('rank'),
      total: sql<number>`count(*) over (partition by ${day})`.as('total'),
    })
    .from(changes)
    .where(
      and(
        open,
        sql`${changes.plannedStart} is not null`,
        lt(changes.plannedStart, params.to),
        gt(changes.plannedEnd, params.from),
        params.service ? eq(changes.service, params.service) : undefined,
      ),
    )
    .as('ranked');
  const rows = await db
    .select({ change: changes, day: ranked.day, total: ranked.total })
    .from(ranked)
    .innerJoin(changes, eq(changes.id, ranked.id))
    .where(lte(ranked.rank, params.perDay))
    .orderBy(asc(ranked.day), asc(changes.plannedStart), asc(changes.number));
  return rows.map((row) => ({ day: row.day, total: Number(row.total), change: row.change }));
}

export interface ChangeListQuery {
  status?: ChangeRow['status'];
  service?: string;
  /** A change is listed when its planned window overlaps [from, to); either bound may be left open. */
  from?: Date;
  to?: Date;
  after?: { requestedAt: Date; id: string };
  limit: number;
}

/** Newest first; ties on requested_at are ordered by id, so pages never skip or repeat one. */
export async function listChanges(db: Database, query: ChangeListQuery): Promise<ChangeRow[]> {
  const conditions = [
    query.status ? eq(changes.status, query.status) : undefined,
    query.service ? eq(changes.service, query.service) : undefined,
    query.from ? gt(changes.plannedEnd, query.from) : undefined,
    query.to ? lt(changes.plannedStart, query.to) : undefined,
    query.after
      ? or(lt(changes.requestedAt, query.after.requestedAt), and(eq(changes.requestedAt, query.after.requestedAt), lt(changes.id, query.after.id)))
      : undefined,
  ];
  return db
    .select()
    .from(changes)
    .where(and(...conditions))
    .orderBy(desc(changes.requestedAt), desc(changes.id))
    .limit(query.limit);
}

/** Pending normal changes, oldest first (the CAB agenda), and the exact count. */
export async function pendingNormalChanges(db: Database, limit: number): Promise<{ total: number; oldest: ChangeRow[] }> {
  const where = and(eq(changes.status, 'pending'), eq(changes.type, 'normal'));
  const counted = await db.select({ total: sql<number>`count(*)::int` }).from(changes).where(where);
  const oldest = await db.select().from(changes).where(where).orderBy(asc(changes.requestedAt), asc(changes.number)).limit(limit);
  return { total: counted[0]?.total ?? 0, oldest };
}

/** Emergency changes awaiting retrospective review, oldest first, and the exact count. */
export async function changesAwaitingReview(db: Database, limit: number): Promise<{ total: number; oldest: ChangeRow[] }> {
  const where = eq(changes.reviewRequired, true);
  const counted = await db.select({ total: sql<number>`count(*)::int` }).from(changes).where(where);
  const oldest = await db.select().from(changes).where(where).orderBy(asc(changes.requestedAt), asc(changes.number)).limit(limit);
  return { total: counted[0]?.total ?? 0, oldest };
}
