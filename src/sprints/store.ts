import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import {
  type CustomerRequestRow,
  customerRequests,
  type DigestSubscriptionRow,
  digestSubscriptions,
  type SprintDigestRow,
  type SprintFeatureRow,
  type SprintRow,
  sprintDigests,
  sprintFeatureEvents,
  sprintFeatures,
  sprints,
} from '../db/schema';

type NewSprint = typeof sprints.$inferInsert;
type SprintPatch = Partial<Omit<NewSprint, 'id' | 'key'>>;
export type NewFeature = typeof sprintFeatures.$inferInsert;
type FeaturePatch = Partial<Pick<NewFeature, 'title' | 'status' | 'customerVisible' | 'statusChangedAt'>>;
type NewFeatureEvent = Omit<typeof sprintFeatureEvents.$inferInsert, 'id'>;
type NewSubscription = Omit<typeof digestSubscriptions.$inferInsert, 'id' | 'disabledAt' | 'disabledReason'>;
type NewDigest = Omit<typeof sprintDigests.$inferInsert, 'id'>;
type NewRequest = Omit<typeof customerRequests.$inferInsert, 'id' | 'number'>;

// ---- sprints and features -------------------------------------------------------

/** Inserts unless a sprint with the same key exists; returns undefined then. */
export async function insertSprint(db: Database, values: NewSprint): Promise<SprintRow | undefined> {
  const [row] = await db.insert(sprints).values(values).onConflictDoNothing({ target: sprints.key }).returning();
  return row;
}

export async function findSprintByKey(db: Database, key: string): Promise<SprintRow | undefined> {
  return db.query.sprints.findFirst({ where: eq(sprints.key, key) });
}

/** Reads the sprint and locks it until the transaction ends, so changes to it and its digests apply one at a time. */
export async function lockSprint(tx: Database, id: string): Promise<SprintRow | undefined> {
  const [row] = await tx.select().from(sprints).where(eq(sprints.id, id)).for('update');
  return row;
}

export async function updateSprint(db: Database, id: string, patch: SprintPatch): Promise<SprintRow> {
  const [row] = await db.update(sprints).set(patch).where(eq(sprints.id, id)).returning();
  if (!row) throw new Error(`sprint ${id} vanished during an update`);
  return row;
}

/**
 * The first and last days of the recorded sprints of `services`, newest first: those
 * overlapping the days `from`..`to` and starting before `startsBefore`, where given.
 * The change domain counts its budgets in these sprints.
 */
export async function listSprintSpans(
  db: Database,
  params: { services: string[]; from?: string; to?: string; startsBefore?: string; limit?: number },
): Promise<Array<{ service: string; startsOn: string; endsOn: string }>> {
  if (params.services.length === 0) return [];
  const query = db
    .select({ service: sprints.service, startsOn: sprints.startsOn, endsOn: sprints.endsOn })
    .from(sprints)
    .where(
      and(
        inArray(sprints.service, params.services),
        params.to === undefined ? undefined : lte(sprints.startsOn, params.to),
        params.from === undefined ? undefined : gte(sprints.endsOn, params.from),
        params.startsBefore === undefined ? undefined : lt(sprints.startsOn, params.startsBefore),
      ),
    )
    .orderBy(desc(sprints.startsOn));
  return params.limit === undefined ? query : query.limit(params.limit);
}

/** The service's current sprint: the one that starts last (the later created on a tie). */
export async function findCurrentSprint(db: Database, service: string): Promise<SprintRow | undefined> {
  return db.query.sprints.findFirst({
    where: eq(sprints.service, service),
    orderBy: [desc(sprints.startsOn), desc(sprints.createdAt)],
  });
}

/** The service's sprint running on `day` (the latest to start, if several), else the next one to start after it. */
export async function findSprintForDay(db: Database, service: string, day: string): Promise<{ sprint: SprintRow; placement: 'current' | 'next' } | undefined> {
  const running = await db.query.sprints.findFirst({
    where: and(eq(sprints.service, service), lte(sprints.startsOn, day), gte(sprints.endsOn, day)),
    orderBy: [desc(sprints.startsOn), desc(sprints.createdAt)],
  });
  if (running) return { sprint: running, placement: 'current' };
  const next = await db.query.sprints.findFirst({
    where: and(eq(sprints.service, service), gt(sprints.startsOn, day)),
    orderBy: [asc(sprints.startsOn), asc(sprints.createdAt)],
  });
  return next ? { sprint: next, placement: 'next' } : undefined;
}

export async function listFeatures(db: Database, sprintId: string): Promise<SprintFeatureRow[]> {
  return db.select().from(sprintFeatures).where(eq(sprintFeatures.sprintId, sprintId)).orderBy(asc(sprintFeatures.position));
}

export async function findFeatureByKey(db: Database, sprintId: string, key: string): Promise<SprintFeatureRow | undefined> {
  return db.query.sprintFeatures.findFirst({
    where: and(eq(sprintFeatures.sprintId, sprintId), eq(sql`upper(${sprintFeatures.key})`, key.trim().toUpperCase())),
  });
}

export async function findFeatureWithSprint(db: Database, featureId: string): Promise<{ feature: SprintFeatureRow; sprint: SprintRow } | undefined> {
  const [row] = await db
    .select({ feature: sprintFeatures, sprint: sprints })
    .from(sprintFeatures)
    .innerJoin(sprints, eq(sprints.id, sprintFeatures.sprintId))
    .where(eq(sprintFeatures.id, featureId));
  return row;
}

export async function insertFeatures(db: Database, values: NewFeature[]): Promise<SprintFeatureRow[]> {
  return values.length === 0 ? [] : db.insert(sprintFeatures).values(values).returning();
}

export async function updateFeature(db: Database, id: string, patch: FeaturePatch): Promise<SprintFeatureRow> {
  const [row] = await db.update(sprintFeatures).set(patch).where(eq(sprintFeatures.id, id)).returning();
  if (!row) throw new Error(`feature ${id} vanished during an update`);
  return row;
}

export async function appendFeatureEvents(db: Database, events: NewFeatureEvent[]): Promise<void> {
  if (events.length > 0) await db.insert(sprintFeatureEvents).values(events);
}

// ---- subscriptions and digests -------------------------------------------------

/** Subscribes the channel, or updates and re-enables its existing subscription. */
export async function upsertSubscription(db: Database, values: NewSubscription): Promise<DigestSubscriptionRow> {
  const [row] = await db
    .insert(digestSubscriptions)
    .values(values)
    .onConflictDoUpdate({
      target: [digestSubscriptions.service, digestSubscriptions.channel],
      set: { ...values, disabledAt: null, disabledReason: null },
    })
    .returning();
  if (!row) throw new Error('subscription upsert returned nothing');
  return row;
}

export async function findSubscription(db: Database, service: string, channel: string): Promise<DigestSubscriptionRow | undefined> {
  return db.query.digestSubscriptions.findFirst({
    where: and(eq(digestSubscriptions.service, service), eq(digestSubscriptions.channel, channel)),
  });
}

/** Disables an active subscription; returns it, or undefined when it was not active. */
export async function disableSubscription(db: Database, id: string, at: Date, reason: string): Promise<DigestSubscriptionRow | undefined> {
  const [row] = await db
    .update(digestSubscriptions)
    .set({ disabledAt: at, disabledReason: reason })
    .where(and(eq(digestSubscriptions.id, id), isNull(digestSubscriptions.disabledAt)))
    .returning();
  return row;
}

/** Active subscriptions, of one service or of all. */
export async function listActiveSubscriptions(db: Database, service?: string): Promise<DigestSubscriptionRow[]> {
  return db
    .select()
    .from(digestSubscriptions)
    .where(and(isNull(digestSubscriptions.disabledAt), service ? eq(digestSubscriptions.service, service) : undefined))
    .orderBy(asc(digestSubscriptions.service), asc(digestSubscriptions.channel));
}

export async function insertDigests(db: Database, values: NewDigest[]): Promise<SprintDigestRow[]> {
  return values.length === 0 ? [] : db.insert(sprintDigests).values(values).returning();
}

export async function findDigest(db: Database, id: string): Promise<SprintDigestRow | undefined> {
  return db.query.sprintDigests.findFirst({ where: eq(sprintDigests.id, id) });
}

/** Each subscription's most recent digest. */
export async function latestDigests(db: Database, subscriptionIds: string[]): Promise<SprintDigestRow[]> {
  if (subscriptionIds.length === 0) return [];
  return db
    .selectDistinctOn([sprintDigests.subscriptionId])
    .from(sprintDigests)
    .where(inArray(sprintDigests.subscriptionId, subscriptionIds))
    .orderBy(sprintDigests.subscriptionId, desc(sprintDigests.createdAt), desc(sprintDigests.id));
}

export async function updateDigest(db: Database, id: string, patch: Partial<Pick<NewDigest, 'messageTs' | 'postedAt' | 'renderedRevision'>>): Promise<void> {
  await db.update(sprintDigests).set(patch).where(eq(sprintDigests.id, id));
}

// ---- customer requests ---------------------------------------------------------

/** Inserts unless the message is tracked already; returns undefined then. */
export async function insertRequest(db: Database, values: NewRequest): Promise<CustomerRequestRow | undefined> {
  const [row] = await db.insert(customerRequests).values(values).onConflictDoNothing().returning();
  return row;
}

export async function findRequestByMessage(db: Database, channel: string, messageTs: string): Promise<CustomerRequestRow | undefined> {
  return db.query.customerRequests.findFirst({
    where: and(eq(customerRequests.channel, channel), eq(customerRequests.messageTs, messageTs)),
  });
}

export async function findRequestByNumber(db: Database, number: number): Promise<CustomerRequestRow | undefined> {
  return db.query.customerRequests.findFirst({ where: eq(customerRequests.number, number) });
}

export async function lockRequest(tx: Database, id: string): Promise<CustomerRequestRow | undefined> {
  const [row] = await tx.select().from(customerRequests).where(eq(customerRequests.id, id)).for('update');
  return row;
}

export async function updateRequest(
  db: Database,
  id: string,
  patch: Partial<Pick<NewRequest, 'featureId' | 'linkedAt' | 'shippedAt' | 'permalink'>>,
): Promise<CustomerRequestRow> {
  const [row] = await db.update(customerRequests).set(patch).where(eq(customerRequests.id, id)).returning();
  if (!row) throw new Error(`customer request ${id} vanished during an update`);
  return row;
}

/** Requests answered by this feature whose channel has not been told it shipped. */
export async function listRequestsAwaitingShipment(db: Database, featureId: string): Promise<CustomerRequestRow[]> {
  return db
    .select()
    .from(customerRequests)
    .where(and(eq(customerRequests.featureId, featureId), isNull(customerRequests.shippedAt)))
    .orderBy(asc(customerRequests.number));
}

export interface OpenRequest {
  request: CustomerRequestRow;
  feature: Pick<SprintFeatureRow, 'key' | 'title' | 'status'> | null;
}

/** Requests not yet shipped that belong to a service: raised in its customer channels or answered by its features. */
export async function listOpenRequests(db: Database, service: string, customerChannels: string[], limit: number): Promise<OpenRequest[]> {
  const rows = await db
    .select({ request: customerRequests, key: sprintFeatures.key, title: sprintFeatures.title, status: sprintFeatures.status })
    .from(customerRequests)
    .leftJoin(sprintFeatures, eq(sprintFeatures.id, customerRequests.featureId))
    .leftJoin(sprints, eq(sprints.id, sprintFeatures.sprintId))
    .where(
      and(
        isNull(customerRequests.shippedAt),
        or(eq(sprints.service, service), customerChannels.length > 0 ? inArray(customerRequests.channel, customerChannels) : undefined),
      ),
    )
    .orderBy(asc(customerRequests.number))
    .limit(limit);
  return rows.map(({ request, key, title, status }) => ({
    request,
    feature: key !== null && title !== null && status !== null ? { key, title, status } : null,
  }));
}

/** Requests in these channels that no feature answers yet and that were tracked before `before`. */
export async function listUnlinkedRequests(db: Database, channels: string[], before: Date): Promise<CustomerRequestRow[]> {
  if (channels.length === 0) return [];
  return db
    .select()
    .from(customerRequests)
    .where(and(inArray(customerRequests.channel, channels), isNull(customerRequests.featureId), lt(customerRequests.createdAt, before)))
    .orderBy(asc(customerRequests.number));
}
