import { and, asc, desc, eq, gte, isNull, lt, lte, ne, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { leaseFree } from '../db/lease';
import {
  type IncidentEventRow,
  type IncidentPostmortemRow,
  type IncidentRow,
  incidentEvents,
  incidentMessages,
  incidentPostmortems,
  incidentRoles,
  incidents,
  type ProblemRow,
  problems,
  sprintFeatures,
} from '../db/schema';
import { listMarkedMessages } from './conversation-store';
import { mergeTimeline, messageEntry } from './timeline';

export type NewIncident = typeof incidents.$inferInsert;
export type NewIncidentEvent = Omit<typeof incidentEvents.$inferInsert, 'id'>;
/** A transaction (or the database) the incident queries run on. */
export type IncidentTx = Database;
export type IncidentPatch = Partial<Omit<NewIncident, 'id' | 'number'>>;

/** Inserts unless a row with the same request or open dedup key exists; returns undefined then. */
export async function insertIncident(db: Database, values: NewIncident): Promise<IncidentRow | undefined> {
  const [row] = await db.insert(incidents).values(values).onConflictDoNothing().returning();
  return row;
}

export async function findIncidentById(db: Database, id: string): Promise<IncidentRow | undefined> {
  return db.query.incidents.findFirst({ where: eq(incidents.id, id) });
}

export async function findIncidentByNumber(db: Database, number: number): Promise<IncidentRow | undefined> {
  return db.query.incidents.findFirst({ where: eq(incidents.number, number) });
}

export async function findIncidentByChannel(db: Database, channelId: string): Promise<IncidentRow | undefined> {
  return db.query.incidents.findFirst({ where: eq(incidents.channelId, channelId) });
}

export async function findIncidentByRequestKey(db: Database, requestKey: string): Promise<IncidentRow | undefined> {
  return db.query.incidents.findFirst({ where: eq(incidents.requestKey, requestKey) });
}

export async function findOpenIncidentByDedupKey(db: Database, dedupKey: string): Promise<IncidentRow | undefined> {
  return db.query.incidents.findFirst({
    where: and(eq(incidents.dedupKey, dedupKey), ne(incidents.status, 'resolved')),
  });
}

/** Reads the incident and locks its row until the transaction ends, so changes apply one at a time. */
export async function lockIncident(tx: Database, id: string): Promise<IncidentRow | undefined> {
  const [row] = await tx.select().from(incidents).where(eq(incidents.id, id)).for('update');
  return row;
}

export async function updateIncident(db: Database, id: string, patch: IncidentPatch): Promise<IncidentRow> {
  const [row] = await db.update(incidents).set(patch).where(eq(incidents.id, id)).returning();
  if (!row) throw new Error(`incident ${id} vanished during an update`);
  return row;
}

/** Claims one incident's swarm set-up until `lockedUntil`, unless another instance holds it. `again` re-opens a finished one. */
export async function claimSwarmSetup(db: Database, id: string, now: Date, lockedUntil: Date, again: boolean): Promise<IncidentRow | undefined> {
  const [row] = await db
    .update(incidents)
    .set({
      swarmLockedUntil: lockedUntil,
      swarmAttempts: sql`${incidents.swarmAttempts} + 1`,
      ...(again ? { swarmSetup: 'pending' as const, swarmInvited: false, summaryPinned: false, swarmAttempts: 1 } : {}),
    })
    .where(
      and(
        eq(incidents.id, id),
        again ? undefined : eq(incidents.swarmSetup, 'pending'),
        leaseFree(incidents.swarmLockedUntil, now),
      ),
    )
    .returning();
  return row;
}

/** Claims due set-ups: pending, not leased, past their retry time (or never tried and declared before `untouchedBefore`). */
export async function claimDueSwarmSetups(
  db: Database,
  claim: { now: Date; untouchedBefore: Date; lockedUntil: Date; limit: number },
): Promise<IncidentRow[]> {
  const { now } = claim;
  const due = db
    .select({ id: incidents.id })
    .from(incidents)
    .where(
      and(
        eq(incidents.swarmSetup, 'pending'),
        or(lte(incidents.swarmNotBefore, now), and(isNull(incidents.swarmNotBefore), lte(incidents.declaredAt, claim.untouchedBefore))),
        leaseFree(incidents.swarmLockedUntil, now),
      ),
    )
    .orderBy(incidents.number)
    .limit(claim.limit)
    .for('update', { skipLocked: true });
  return db
    .update(incidents)
    .set({ swarmLockedUntil: claim.lockedUntil, swarmAttempts: sql`${incidents.swarmAttempts} + 1` })
    .where(sql`${incidents.id} in ${due}`)
    .returning();
}

/** Keeps a running set-up's lease; a finished one has nothing to keep. */
export async function renewSwarmLease(db: Database, id: string, lockedUntil: Date): Promise<void> {
  await db
    .update(incidents)
    .set({ swarmLockedUntil: lockedUntil })
    .where(and(eq(incidents.id, id), eq(incidents.swarmSetup, 'pending')));
}

export async function appendEvent(db: Database, event: NewIncidentEvent): Promise<IncidentEventRow> {
  const [row] = await db.insert(incidentEvents).values(event).returning();
  if (!row) throw new Error('timeline insert returned nothing');
  return row;
}

/**
 * The incident's timeline: its own events and, as `message` entries at their own
 * time, the channel's messages that are pinned or carry the timeline reaction.
 */
export async function listTimeline(db: Database, incidentId: string): Promise<IncidentEventRow[]> {
  const [events, messages] = await Promise.all([
    db.select().from(incidentEvents).where(eq(incidentEvents.incidentId, incidentId)).orderBy(asc(incidentEvents.at), asc(incidentEvents.id)),
    listMarkedMessages(db, incidentId),
  ]);
  return mergeTimeline(events, messages.map(messageEntry));
}

export async function insertProblem(db: Database, values: typeof problems.$inferInsert): Promise<ProblemRow | undefined> {
  const [row] = await db.insert(problems).values(values).onConflictDoNothing().returning();
  return row;
}

export async function findProblemByRequestKey(db: Database, requestKey: string): Promise<ProblemRow | undefined> {
  return db.query.problems.findFirst({ where: eq(problems.requestKey, requestKey) });
}

export type ProblemPatch = Partial<Pick<typeof problems.$inferInsert, 'state' | 'stateChangedAt' | 'stateChangedBy' | 'featureId' | 'owner'>>;

export async function updateProblem(db: Database, id: string, patch: ProblemPatch): Promise<ProblemRow> {
  const [row] = await db.update(problems).set(patch).where(eq(problems.id, id)).returning();
  if (!row) throw new Error(`problem ${id} vanished during an update`);
  return row;
}

/** Reads the follow-up and locks it until the transaction ends, so its state changes once. */
export async function lockProblem(tx: Database, id: string): Promise<ProblemRow | undefined> {
  const [row] = await tx.select().from(problems).where(eq(problems.id, id)).for('update');
  return row;
}

export async function findProblemByFeature(db: Database, featureId: string): Promise<ProblemRow | undefined> {
  return db.query.problems.findFirst({ where: eq(problems.featureId, featureId) });
}

/** Open follow-ups of incidents with a service that are in no sprint yet (their service had none when they were raised). */
export async function listProblemsWithoutFeature(db: Database, limit: number): Promise<ProblemRow[]> {
  return db
    .select({ problem: problems })
    .from(problems)
    .innerJoin(incidents, eq(incidents.id, problems.incidentId))
    .where(and(eq(problems.state, 'open'), isNull(problems.featureId), sql`${incidents.service} is not null`))
    .orderBy(asc(problems.number))
    .limit(limit)
    .then((rows) => rows.map((row) => row.problem));
}

/** Open follow-ups whose sprint feature is done: a done that was not heard of when it happened (a crash, another instance). */
export async function listOpenProblemsWithDoneFeature(db: Database, limit: number): Promise<ProblemRow[]> {
  return db
    .select({ problem: problems })
    .from(problems)
    .innerJoin(sprintFeatures, eq(sprintFeatures.id, problems.featureId))
    .where(and(eq(problems.state, 'open'), eq(sprintFeatures.status, 'done')))
    .orderBy(asc(problems.number))
    .limit(limit)
    .then((rows) => rows.map((row) => row.problem));
}

// ---- postmortem uploads ----------------------------------------------------------

/** Queues the postmortem upload of a resolved incident; a second resolve path finds it queued and adds nothing. */
export async function queuePostmortem(db: Database, incidentId: string, now: Date): Promise<void> {
  await db.insert(incidentPostmortems).values({ incidentId, notBefore: now, createdAt: now }).onConflictDoNothing();
}

/** Claims due uploads until `lockedUntil`, skipping those another instance holds. */
export async function claimDuePostmortems(db: Database, now: Date, lockedUntil: Date, limit: number): Promise<IncidentPostmortemRow[]> {
  const due = db
    .select({ id: incidentPostmortems.incidentId })
    .from(incidentPostmortems)
    .where(
      and(
        eq(incidentPostmortems.state, 'pending'),
        lte(incidentPostmortems.notBefore, now),
        leaseFree(incidentPostmortems.lockedUntil, now),
      ),
    )
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(incidentPostmortems)
    .set({ lockedUntil, attempts: sql`${incidentPostmortems.attempts} + 1` })
    .where(sql`${incidentPostmortems.incidentId} in ${due}`)
    .returning();
}

export async function updatePostmortem(
  db: Database,
  incidentId: string,
  patch: Partial<Omit<typeof incidentPostmortems.$inferInsert, 'incidentId'>>,
): Promise<IncidentPostmortemRow> {
  const [row] = await db.update(incidentPostmortems).set(patch).where(eq(incidentPostmortems.incidentId, incidentId)).returning();
  if (!row) throw new Error(`postmortem of ${incidentId} vanished during an update`);
  return row;
}

export async function listOpenIncidents(db: Database, limit: number): Promise<IncidentRow[]> {
  return db.select().from(incidents).where(ne(incidents.status, 'resolved')).orderBy(desc(incidents.declaredAt)).limit(limit);
}

export interface IncidentListQuery {
  status?: 'open' | 'resolved';
  service?: string;
  includePrivate: boolean;
  /** The last incident of the previous page; the list continues after it. */
  after?: { declaredAt: Date; id: string };
  limit: number;
}

/** Newest first; ties on declared_at are ordered by id, so pages never skip or repeat one. */
export async function listIncidents(db: Database, query: IncidentListQuery): Promise<IncidentRow[]> {
  const conditions = [
    query.status === 'open' ? ne(incidents.status, 'resolved') : undefined,
    query.status === 'resolved' ? eq(incidents.status, 'resolved') : undefined,
    query.service ? eq(incidents.service, query.service) : undefined,
    query.includePrivate ? undefined : eq(incidents.private, false),
    query.after
      ? or(lt(incidents.declaredAt, query.after.declaredAt), and(eq(incidents.declaredAt, query.after.declaredAt), lt(incidents.id, query.after.id)))
      : undefined,
  ];
  return db
    .select()
    .from(incidents)
    .where(and(...conditions))
    .orderBy(desc(incidents.declaredAt), desc(incidents.id))
    .limit(query.limit);
}

export async function listProblems(db: Database, incidentId: string): Promise<ProblemRow[]> {
  return db.select().from(problems).where(eq(problems.incidentId, incidentId)).orderBy(asc(problems.number));
}

/**
 * Open incidents as one person may see them, newest first (the Home shows them). A
 * private incident is theirs to see only when Tandem knows them to be in its channel:
 * they declared it, command it or hold one of its roles, were named at declaration
 * (all of them invited), or have posted there. Others count private incidents, never read them.
 */
export async function openIncidentsFor(
  db: Database,
  viewer: string,
  limit: number,
): Promise<{ total: number; latest: IncidentRow[]; hiddenPrivate: number }> {
  const open = ne(incidents.status, 'resolved');
  // `is not distinct from` keeps an incident without a commander a plain false, never null.
  const seenBy = sql`(not ${incidents.private} or ${incidents.declaredBy} = ${viewer} or ${incidents.commander} is not distinct from ${viewer}
    or ${viewer} = any(${incidents.swarmInvite})
    or exists (select 1 from ${incidentRoles} where ${incidentRoles.incidentId} = ${incidents.id} and ${incidentRoles.userId} = ${viewer})
    or exists (select 1 from ${incidentMessages} where ${incidentMessages.incidentId} = ${incidents.id} and ${incidentMessages.user} = ${viewer}))`;
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

/** A service's incidents declared in the window (the improvement report lists them), at most `limit`. */
export async function incidentsDeclaredIn(db: Database, service: string, window: { from: Date; to: Date }, limit: number): Promise<IncidentRow[]> {
  return db
    .select()
    .from(incidents)
    .where(and(eq(incidents.service, service), gte(incidents.declaredAt, window.from), lt(incidents.declaredAt, window.to)))
    .limit(limit);
}
