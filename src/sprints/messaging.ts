import { z } from 'zod';
import type { CustomerRequestRow, DigestSubscriptionRow, SprintDigestRow, SprintFeatureRow, SprintRow } from '../db/schema';
import type { Message } from '../slack/blocks';
import type { OutboxMessage } from '../slack/outbox';
import { type OutboxCall, outboxTopic } from '../slack/outbox-topic';
import { digestView, renderSprintDigest, requestShippedReply, staleRequestsNotice, subscriptionDisabledNotice } from './blocks';

/**
 * The outbox messages of sprints, as pure functions of what they are about. Payloads
 * are plain ids, stored as the rows queued before typed topics were.
 */

/** Digest posts and their in-place updates, by digest id; see digests.ts for what happens after. */
export const digestTopic = outboxTopic('sprint.digest', z.uuid());
/** Thread replies telling a customer channel that its request shipped, by request id. */
const requestTopic = outboxTopic('sprint.request', z.uuid());
/** DMs to a service's people: a disabled subscription, requests waiting for a feature. */
const noticeTopic = outboxTopic('sprint.notice', z.undefined());

/** The job name a subscription's periods are claimed under. */
export const digestJob = (subscriptionId: string) => `sprint-digest:${subscriptionId}`;

const postMessage = (args: { channel: string; thread_ts?: string } & Message, dedupKey: string): OutboxCall => ({
  method: 'chat.postMessage',
  args: { ...args, unfurl_links: false },
  dedupKey,
});

/** What customers see of the sprint: internal features and keys left out. */
export const customerDigest = (sprint: SprintRow, features: readonly SprintFeatureRow[]): Message => renderSprintDigest(digestView(sprint, features, 'customers'));

/** A new digest message in its channel; each post is the digest's only one. */
export const digestPosts = (digests: readonly SprintDigestRow[], message: Message): OutboxMessage[] =>
  digests.map((digest) => digestTopic.message(digest.id, postMessage({ channel: digest.channel, ...message }, `sprint-digest:${digest.id}`)));

/** A posted digest brought up to `revision` in place; one update per revision. */
export const digestUpdate = (digest: SprintDigestRow & { messageTs: string }, message: Message, revision: number): OutboxMessage =>
  digestTopic.message(digest.id, {
    method: 'chat.update',
    args: { channel: digest.channel, ts: digest.messageTs, ...message },
    dedupKey: `sprint-digest:${digest.id}:revision-${revision}`,
  });

/** In the thread of each request: the feature that answers it shipped. */
export const requestShippedReplies = (requests: readonly CustomerRequestRow[], feature: SprintFeatureRow): OutboxMessage[] =>
  requests.map((request) =>
    requestTopic.message(
      request.id,
      postMessage({ channel: request.channel, thread_ts: request.messageTs, ...requestShippedReply(request, feature) }, `customer-request-shipped:${request.id}`),
    ),
  );

/** To each of `people`: Slack refused the subscription's channel (`reason`), so it was stopped. */
export function subscriptionDisabledNotices(subscription: DigestSubscriptionRow & { disabledAt: Date }, people: readonly string[], reason: string): OutboxMessage[] {
  const notice = subscriptionDisabledNotice(subscription, reason);
  const disabledAt = subscription.disabledAt.toISOString();
  return people.map((person) =>
    noticeTopic.message(undefined, postMessage({ channel: person, ...notice }, `sprint-subscription-disabled:${subscription.id}:${disabledAt}:${person}`)),
  );
}

/** To each owner, once per reminder period (`job` and `periodKey`): requests that waited more than `days`. */
export function staleRequestsNotices(
  reminder: { service: string; days: number; owners: readonly string[]; job: string; periodKey: string },
  waiting: readonly CustomerRequestRow[],
): OutboxMessage[] {
  const notice = staleRequestsNotice(reminder.service, reminder.days, waiting);
  return reminder.owners.map((owner) => noticeTopic.message(undefined, postMessage({ channel: owner, ...notice }, `${reminder.job}:${reminder.periodKey}:${owner}`)));
}
