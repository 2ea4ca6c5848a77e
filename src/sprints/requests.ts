import { servicesOfChannel } from '../catalog';
import type { CustomerRequestRow, SprintFeatureRow } from '../db/schema';
import { conflict, invalid, notFound } from '../errors';
import { slackErrorCode } from '../slack/errors';
import { unitOfWork, type Work } from '../unit-of-work';
import type { SprintDeps } from './deps';
import { requestShippedReplies } from './messaging';
import { requestKey } from './model';
import * as store from './store';

/** Customer requests: tracked from a customer channel's message, linked to the feature that answers it, told when it ships. */

/** Records a customer's message as a request; tracking the same message again returns the first record. */
export async function trackRequest(
  deps: SprintDeps,
  input: { channel: string; messageTs: string; text: string; requester?: string; actor: string },
): Promise<{ request: CustomerRequestRow; created: boolean }> {
  if (servicesOfChannel(deps.catalog, input.channel, ['customers']).length === 0) {
    throw invalid(
      'not_a_customer_channel',
      `Customer requests are tracked from customer channels, and <#${input.channel}> is not one. A service lists its customer channels under services.<name>.channels.customers in tandem.yaml.`,
    );
  }
  const inserted = await store.insertRequest(deps.db, {
    channel: input.channel,
    messageTs: input.messageTs,
    text: input.text.trim() || '(a message without text)',
    requester: input.requester ?? null,
    trackedBy: input.actor,
    createdAt: deps.clock.now(),
  });
  if (inserted) return { request: inserted, created: true };
  const existing = await store.findRequestByMessage(deps.db, input.channel, input.messageTs);
  if (!existing) throw conflict('request_conflict', 'The request could not be recorded; please try again.');
  return { request: existing, created: false };
}

/** Fills in the message's permalink; best effort, the request is useful without it. */
export async function addPermalink(deps: SprintDeps, request: CustomerRequestRow): Promise<void> {
  try {
    const answer = await deps.slack.chat.getPermalink({ channel: request.channel, message_ts: request.messageTs });
    if (answer.permalink) await store.updateRequest(deps.db, request.id, { permalink: answer.permalink });
  } catch (error) {
    deps.logger.warn({ request: request.number, error: slackErrorCode(error) }, 'could not get the permalink of a customer request');
  }
}

/** Links a request to the feature that answers it; when that feature is already done, the channel is told now. */
export async function linkRequest(
  deps: SprintDeps,
  input: { requestId: string; featureId: string },
): Promise<{ request: CustomerRequestRow; feature: SprintFeatureRow }> {
  const found = await store.findFeatureWithSprint(deps.db, input.featureId);
  if (!found) throw notFound('feature_not_found', 'That feature no longer exists.');
  return unitOfWork(deps, async (work) => {
    const { tx } = work;
    // The sprint lock orders this against a status change that would ship the feature meanwhile.
    await store.lockSprint(tx, found.sprint.id);
    const feature = (await store.findFeatureWithSprint(tx, input.featureId))!.feature;
    const request = await store.lockRequest(tx, input.requestId);
    if (!request) throw notFound('request_not_found', 'That customer request no longer exists.');
    if (request.shippedAt) {
      throw conflict('request_shipped', `${requestKey(request.number)} was answered already and its channel was told; nothing to change.`);
    }
    const now = deps.clock.now();
    const linked = await store.updateRequest(tx, request.id, { featureId: feature.id, linkedAt: now });
    if (feature.status === 'done') await tellRequestersItShipped(work, feature, now);
    return { request: linked, feature };
  });
}

/** Tells each customer channel, in the thread of its request, that the feature answering it shipped. */
export async function tellRequestersItShipped(work: Work, feature: SprintFeatureRow, now: Date): Promise<void> {
  const requests = await store.listRequestsAwaitingShipment(work.tx, feature.id);
  for (const request of requests) await store.updateRequest(work.tx, request.id, { shippedAt: now });
  await work.send(requestShippedReplies(requests, feature));
}
