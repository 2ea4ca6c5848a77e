import { and, asc, eq, inArray, isNotNull, isNull, lte, ne, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import {
  type IncidentRoleRow,
  type IncidentRow,
  type IncidentUpdateSnoozeRow,
  incidentEvents,
  incidentRoles,
  incidents,
  incidentUpdateSnoozes,
  scheduledRuns,
} from '../db/schema';

/** Storage of an incident's roles, its reminders' inputs and its channel's archiving. */

/** The timeline kinds that count as an update for the update reminder (see README, "Reminders"). */
export const updateKinds = ['declared', 'update', 'status', 'severity'] as const;

export async function listRoles(db: Database, incidentId: string): Promise<IncidentRoleRow[]> {
  return db.select().from(incidentRoles).where(eq(incidentRoles.incidentId, incidentId)).orderBy(asc(incidentRoles.role));
}

export async function findRole(db: Database, incidentId: string, role: string): Promise<IncidentRoleRow | undefined> {
  const [row] = await db
    .select()
    .from(incidentRoles)
    .where(and(eq(incidentRoles.incidentId, incidentId), eq(incidentRoles.role, role)));
  return row;
}

export async function saveRole(db: Database, row: IncidentRoleRow): Promise<void> {
  await db
    .insert(incidentRoles)
    .values(row)
    .onConflictDoUpdate({
      target: [incidentRoles.incidentId, incidentRoles.role],
      set: { userId: row.userId, assignedBy: row.assignedBy, assignedAt: row.assignedAt },
    });
}

export async function findSnooze(db: Database, incidentId: string): Promise<IncidentUpdateSnoozeRow | undefined> {
  const [row] = await db.select().from(incidentUpdateSnoozes).where(eq(incidentUpdateSnoozes.incidentId, incidentId));
  return row;
}

export async function saveSnooze(db: Database, row: IncidentUpdateSnoozeRow): Promise<void> {
  await db
    .insert(incidentUpdateSnoozes)
    .values(row)
    .onConflictDoUpdate({
      target: incidentUpdateSnoozes.incidentId,
      set: { until: row.until, snoozedBy: row.snoozedBy, snoozedAt: row.snoozedAt, reminderDueAt: row.reminderDueAt },
    });
}

/** When the incident last had an update (its declaration when none). */
const lastUpdateAt = sql`coalesce((select max(${incidentEvents.at}) from ${incidentEvents} where ${incidentEvents.incidentId} = ${incidents.id} and ${incidentEvents.kind} in (${sql.join(
  updateKinds.map((kind) => sql`${kind}`),
  sql`, `,
)})), ${incidents.declaredAt})`;

/** When the incident last went into monitoring (a note on monitoring does not restart it). */
const monitoringSince = sql`(select max(${incidentEvents.at}) from ${incidentEvents} where ${incidentEvents.incidentId} = ${incidents.id} and ${incidentEvents.kind} = 'status' and ${incidentEvents.data}->>'to' = 'monitoring' and ${incidentEvents.data}->>'from' <> 'monitoring')`;

export interface ReminderState {
  incident: IncidentRow;
  lastUpdateAt: Date;
  snoozedUntil: Date | null;
  monitoringSince: Date | null;
}

export interface ReminderScan {
  now: Date;
  /** Minutes before a reminder without commander. */
  commanderAfterMinutes: number;
  /** Minutes without update per severity; a severity missing is never reminded. */
  updateEveryMinutes: Partial<Record<number, number>>;
  monitoringAfterMinutes: number;
  /** Only these incidents (re-reading one under its lock); otherwise every open incident something is due for. */
  ids?: string[];
  limit: number;
}

/**
 * Open incidents with a channel for which some reminder is due now: no commander
 * after the grace time, no update within the severity's interval (or the snooze),
 * or monitoring for long enough. Which reminder, and for which period, model code decides.
 */
export async function dueReminderStates(db: Database, scan: ReminderScan): Promise<ReminderState[]> {
  // A raw fragment's Date is not serialised by every driver; the ISO text is.
  const now = sql`${scan.now.toISOString()}::timestamptz`;
  const minutes = Object.entries(scan.updateEveryMinutes).filter(([, value]) => value !== undefined);
  const interval = (count: number) => sql`make_interval(mins => ${count}::int)`;
  const updateDue: SQL =
    minutes.length === 0
      ? sql`false`
      : sql`(case ${incidents.severity} ${sql.join(
          minutes.map(([severity, value]) => sql`when ${Number(severity)}::smallint then ${lastUpdateAt} + ${interval(value!)}`),
          sql` `,
        )} end) <= ${now} and (${incidentUpdateSnoozes.until} is null or ${incidentUpdateSnoozes.until} <= ${now})`;
  const rows = await db
    .select({
      incident: incidents,
      lastUpdateAt: lastUpdateAt.mapWith(incidents.declaredAt),
      snoozedUntil: incidentUpdateSnoozes.until,
      monitoringSince: monitoringSince.mapWith(incidents.declaredAt),
    })
    .from(incidents)
    .leftJoin(incidentUpdateSnoozes, eq(incidentUpdateSnoozes.incidentId, incidents.id))
    .where(
      and(
        ne(incidents.status, 'resolved'),
        isNotNull(incidents.channelId),
        scan.ids ? inArray(incidents.id, scan.ids) : undefined,
        sql`(
          (${incidents.commander} is null and ${incidents.declaredAt} + ${interval(scan.commanderAfterMinutes)} <= ${now})
          or (${updateDue})
          or (${incidents.status} = 'monitoring' and ${monitoringSince} + ${interval(scan.monitoringAfterMinutes)} <= ${now})
        )`,
      ),
    )
    .orderBy(asc(incidents.number))
    .limit(scan.limit);
  return rows.map((row) => ({ ...row, lastUpdateAt: row.lastUpdateAt ?? row.incident.declaredAt }));
}

/** The incident's last update as the reminder counts it; undefined before the first (the declaration counts then). */
export async function findLastUpdateAt(db: Database, incidentId: string): Promise<Date | undefined> {
  const [row] = await db
    .select({ at: sql`max(${incidentEvents.at})`.mapWith(incidentEvents.at) })
    .from(incidentEvents)
    .where(and(eq(incidentEvents.incidentId, incidentId), inArray(incidentEvents.kind, [...updateKinds])));
  return row?.at ?? undefined;
}

export const archiveJob = (incidentId: string) => `incident-archive:${incidentId}`;

/** Resolved incidents whose channel is due for archiving and that no instance has claimed yet. */
export async function dueArchives(db: Database, resolvedBefore: Date, limit: number): Promise<IncidentRow[]> {
  return db
    .select()
    .from(incidents)
    .where(
      and(
        eq(incidents.status, 'resolved'),
        isNull(incidents.archivedAt),
        isNotNull(incidents.channelId),
        lte(incidents.resolvedAt, resolvedBefore),
        // Qualified by hand: a one-table select leaves its columns bare, which would not reach into the subquery.
        sql`not exists (select 1 from ${scheduledRuns} where ${scheduledRuns.job} = 'incident-archive:' || ${sql.identifier('incidents')}.${sql.identifier('id')}::text)`,
      ),
    )
    .orderBy(asc(incidents.resolvedAt))
    .limit(limit);
}

export async function markArchived(db: Database, incidentId: string, at: Date): Promise<IncidentRow | undefined> {
  const [row] = await db
    .update(incidents)
    .set({ archivedAt: at })
    .where(and(eq(incidents.id, incidentId), isNull(incidents.archivedAt)))
    .returning();
  return row;
}
