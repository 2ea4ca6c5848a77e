import { findService } from '../catalog';
import type { DigestSubscriptionRow, SprintRow } from '../db/schema';
import { notFound } from '../errors';
import { claimPeriods, latestPeriod, type Period } from '../jobs/periods';
import { describeSlackErrorCode } from '../slack/errors';
import { unitOfWork, type Work } from '../unit-of-work';
import type { SprintDeps } from './deps';
import { requireCurrentSprint } from './lookup';
import { customerDigest, digestJob, digestPosts, digestUpdate, subscriptionDisabledNotices } from './messaging';
import * as store from './store';

/** Sprint digests in customer channels: posted when a sprint starts or on request, kept up to date in place. */

/** Posts the current sprint's digest to every subscribed channel of the service now. */
export async function postDigestNow(deps: SprintDeps, service: string): Promise<{ sprint: SprintRow; channels: string[] }> {
  const current = await requireCurrentSprint(deps.db, service);
  return unitOfWork(deps, async (work) => {
    const sprint = await store.lockSprint(work.tx, current.id);
    if (!sprint) throw notFound('sprint_not_found', 'That sprint no longer exists.');
    return { sprint, channels: await announceDigest(deps, work, sprint) };
  });
}

/**
 * Posts the sprint's digest to every subscribed channel of its service (a sprint
 * started, or someone asked). The post counts as the current period's, so the
 * schedule does not post the same digest again until its next period.
 */
export async function announceDigest(deps: SprintDeps, work: Work, sprint: SprintRow): Promise<string[]> {
  const subscriptions = await store.listActiveSubscriptions(work.tx, sprint.service);
  const now = deps.clock.now();
  await claimPeriods(
    work.tx,
    deps.clock,
    subscriptions.flatMap((subscription) => {
      const period = duePeriod(subscription, now);
      return period ? [{ job: digestJob(subscription.id), period }] : [];
    }),
  );
  return postDigests(deps, work, sprint, subscriptions);
}

/** The subscription's current period, unless it began before the subscription did. */
export function duePeriod(subscription: DigestSubscriptionRow, now: Date): Period | undefined {
  const period = latestPeriod(subscription, now);
  return period && period.at >= subscription.activeSince ? period : undefined;
}

/**
 * Queues a new digest message of `sprint` for each of `subscriptions`. Each
 * becomes its subscription's latest digest, the one later changes update in place.
 */
export async function postDigests(deps: SprintDeps, work: Work, sprint: SprintRow, subscriptions: DigestSubscriptionRow[]): Promise<string[]> {
  if (subscriptions.length === 0) return [];
  const digests = await store.insertDigests(
    work.tx,
    subscriptions.map((subscription) => ({
      subscriptionId: subscription.id,
      sprintId: sprint.id,
      channel: subscription.channel,
      renderedRevision: sprint.revision,
      createdAt: deps.clock.now(),
    })),
  );
  await work.send(digestPosts(digests, customerDigest(sprint, await store.listFeatures(work.tx, sprint.id))));
  return digests.map((digest) => digest.channel);
}

/**
 * Updates in place every posted digest that is its subscription's latest and shows
 * this sprint. Digests still waiting in the outbox are brought up to date when
 * their post lands (see recordDigestPosted). Runs in the transaction that locked the sprint.
 */
export async function refreshDigests(work: Work, sprint: SprintRow): Promise<void> {
  const subscriptions = await store.listActiveSubscriptions(work.tx, sprint.service);
  const stale = (await store.latestDigests(work.tx, subscriptions.map((subscription) => subscription.id))).filter(
    (digest): digest is typeof digest & { messageTs: string } =>
      digest.sprintId === sprint.id && digest.messageTs !== null && digest.renderedRevision < sprint.revision,
  );
  if (stale.length === 0) return;
  const message = customerDigest(sprint, await store.listFeatures(work.tx, sprint.id));
  for (const digest of stale) await store.updateDigest(work.tx, digest.id, { renderedRevision: sprint.revision });
  await work.send(stale.map((digest) => digestUpdate(digest, message, sprint.revision)));
}

/**
 * The outbox sent a digest message: when it was the digest's post, remember where,
 * and catch up on changes made while it waited. An in-place update comes back here
 * too; its digest has its ts already (only posted digests are updated), so it changes nothing.
 */
export async function recordDigestPosted(deps: SprintDeps, digestId: string, response: Record<string, unknown>): Promise<void> {
  if (typeof response.ts !== 'string') return;
  const ts = response.ts;
  await unitOfWork(deps, async (work) => {
    const digest = await store.findDigest(work.tx, digestId);
    if (!digest || digest.messageTs !== null) return;
    // Locking the sprint orders this against status changes: either they see the ts, or this sees their revision.
    const sprint = await store.lockSprint(work.tx, digest.sprintId);
    await store.updateDigest(work.tx, digest.id, { messageTs: ts, postedAt: deps.clock.now() });
    if (sprint && sprint.revision > digest.renderedRevision) await refreshDigests(work, sprint);
  });
}

/** Slack errors that mean the channel will not take digests until a person acts. */
const refusedChannelErrors = new Set(['channel_not_found', 'not_in_channel', 'is_archived']);

/** The outbox gave up on a digest message: when the channel refuses posts, stop the subscription and tell its people. */
export async function handleUndeliverableDigest(deps: SprintDeps, digestId: string, error: string): Promise<void> {
  if (!refusedChannelErrors.has(error)) return;
  const digest = await store.findDigest(deps.db, digestId);
  if (!digest) return;
  await unitOfWork(deps, async (work) => {
    const subscription = await store.disableSubscription(work.tx, digest.subscriptionId, deps.clock.now(), error);
    // Later messages to the same channel fail the same way; only the first one tells anyone.
    if (!subscription) return;
    deps.logger.warn({ service: subscription.service, channel: subscription.channel, error }, 'digest subscription disabled');
    const service = findService(deps.catalog, subscription.service);
    const people = [...new Set([subscription.subscribedBy, ...(service?.owners ?? [])])];
    await work.send(subscriptionDisabledNotices({ ...subscription, disabledAt: subscription.disabledAt! }, people, describeSlackErrorCode(error)));
  });
}
