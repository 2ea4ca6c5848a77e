import type { WebClient } from '@slack/web-api';
import type { BackgroundWork } from '../background';
import { approversOf, type Catalog, findService, requireService, type ServiceConfig, serviceNames, servicesOfChannel } from '../catalog';
import type { Database } from '../db/client';
import type { CustomerRequestRow, DigestSubscriptionRow, OutboxRow, SprintFeatureRow, SprintRow } from '../db/schema';
import { conflict, forbidden, invalid, notFound } from '../errors';
import { claimPeriods, latestPeriod, nextFire, type Period, scheduleProblem } from '../jobs/periods';
import type { Logger } from '../log';
import type { Message } from '../slack/blocks';
import { describeSlackErrorCode, slackErrorCode } from '../slack/errors';
import { enqueue, type OutboxMessage, type OutboxWorker } from '../slack/outbox';
import type { Clock } from '../time';
import { type DigestView, renderSprintDigest, requestShippedReply, subscriptionDisabledNotice } from './blocks';
import { type FeatureStatus, featureKey, maxFeatureTitleLength, requestKey, sprintKeyFor } from './model';
import * as store from './store';

export interface SprintDeps {
  db: Database;
  clock: Clock;
  catalog: Catalog;
  logger: Logger;
  outbox: OutboxWorker;
  /** Interactive Web API client, for calls whose answer is needed now. */
  slack: WebClient;
  background: BackgroundWork;
  /** Time zone of digest schedules when neither the command nor the catalog names one. */
  timeZone: string;
}

/** Digest posts and their in-place updates; the handler records where they landed and disables refused channels. */
export const digestTopic = 'sprint.digest';
/** Thread replies telling a customer channel that its request shipped. */
export const requestTopic = 'sprint.request';
/** DMs to a service's people: a disabled subscription, requests waiting for a feature. */
export const noticeTopic = 'sprint.notice';

/** A chat.postMessage for the outbox; `ref` goes back to the topic's handler. */
export function postMessage(
  topic: string,
  args: { channel: string; thread_ts?: string } & Message,
  dedupKey: string,
  ref?: string,
): OutboxMessage {
  return { topic, ...(ref ? { ref } : {}), method: 'chat.postMessage', args: { ...args, unfurl_links: false }, dedupKey };
}

/** The job name a subscription's periods are claimed under. */
export const digestJob = (subscriptionId: string) => `sprint-digest:${subscriptionId}`;

// ---- services and permissions ----------------------------------------------------

function knownServices(catalog: Catalog): string {
  const known = serviceNames(catalog);
  return known.length > 0 ? `Known services: ${known.join(', ')}.` : 'The catalog lists no services yet (see tandem.yaml).';
}

/**
 * The service a `/sprint` command acts on: the one it names, else the one whose
 * catalog lists the channel it was typed in.
 */
export function serviceForCommand(catalog: Catalog, requested: string | undefined, channel: string): string {
  if (requested) {
    requireService(catalog, requested);
    return requested;
  }
  const candidates = servicesOfChannel(catalog, channel, ['incidents', 'approvals', 'customers']);
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw invalid('ambiguous_service', `This channel belongs to ${candidates.join(' and ')}. Say which with \`service=<name>\`, for example \`service=${candidates[0]}\`.`);
  }
  throw invalid('service_required', `This channel is not one of a service’s channels in the catalog, so say which service with \`service=<name>\`. ${knownServices(catalog)}`);
}

/** The service whose catalog lists `channel` as a customer channel (`requested` when it names one of several). */
function serviceOfCustomerChannel(catalog: Catalog, channel: string, requested?: string): string {
  const candidates = servicesOfChannel(catalog, channel, ['customers']);
  if (requested) {
    requireService(catalog, requested);
    if (candidates.includes(requested)) return requested;
    throw invalid('not_a_customer_channel', `<#${channel}> is not a customer channel of ${requested}. Add it under services.${requested}.channels.customers in tandem.yaml first.`);
  }
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw invalid('ambiguous_service', `<#${channel}> is a customer channel of ${candidates.join(' and ')}. Say which with \`service=<name>\`.`);
  }
  throw invalid('not_a_customer_channel', `<#${channel}> is not a customer channel of any service. Digests and requests live in customer channels: add it under services.<name>.channels.customers in tandem.yaml.`);
}

/** Owners, on-call and approvers: the people who run a service's sprints. */
export function isOnServiceTeam(catalog: Catalog, serviceName: string, user: string): boolean {
  const service = requireService(catalog, serviceName);
  return service.owners.includes(user) || service.oncall.includes(user) || approversOf(catalog, service).has(user);
}

export function requireServiceTeam(catalog: Catalog, serviceName: string, actor: string): void {
  if (isOnServiceTeam(catalog, serviceName, actor)) return;
  const service = requireService(catalog, serviceName);
  throw forbidden('not_on_service_team', `Only the owners, on-call and approvers of ${serviceName} run its sprints. ${whoToAsk(service)}`);
}

/** Owners and approvers may point digests at customers (the contract says so). */
function requireSubscriptionManager(catalog: Catalog, serviceName: string, actor: string): void {
  const service = requireService(catalog, serviceName);
  if (service.owners.includes(actor) || approversOf(catalog, service).has(actor)) return;
  throw forbidden('not_owner_or_approver', `Only the owners and approvers of ${serviceName} manage its digest subscriptions. ${whoToAsk(service)}`);
}

function whoToAsk(service: ServiceConfig): string {
  return service.owners.length > 0
    ? `Ask ${service.owners.map((owner) => `<@${owner}>`).join(' or ')}.`
    : 'The catalog lists no owners for it yet (services.<name>.owners in tandem.yaml).';
}

// ---- sprints and features ----------------------------------------------------------

export async function requireCurrentSprint(db: Database, service: string): Promise<SprintRow> {
  const sprint = await store.findCurrentSprint(db, service);
  if (!sprint) throw notFound('no_sprint', `${service} has no sprint yet. Start one with \`/sprint start <name> <start-date> <end-date>\`.`);
  return sprint;
}

export const digestView = (sprint: SprintRow, features: readonly SprintFeatureRow[], audience: DigestView['audience']): DigestView => ({
  sprint,
  features,
  audience,
});

/** Starts a sprint from Slack and posts its digest to the service's subscribed channels. */
export async function startSprint(
  deps: SprintDeps,
  input: { service: string; name: string; startsOn: string; endsOn: string; actor: string },
): Promise<{ sprint: SprintRow; channels: string[] }> {
  requireService(deps.catalog, input.service);
  const key = sprintKeyFor(input.service, input.name);
  const result = await deps.db.transaction(async (tx) => {
    const current = await store.findCurrentSprint(tx, input.service);
    if (current && current.startsOn > input.startsOn) {
      throw invalid(
        'starts_before_current',
        `The current sprint of ${input.service}, ${current.name}, starts ${current.startsOn}; a new sprint has to start on or after that day.`,
      );
    }
    const now = deps.clock.now();
    const sprint = await store.insertSprint(tx, {
      key,
      service: input.service,
      name: input.name,
      startsOn: input.startsOn,
      endsOn: input.endsOn,
      createdBy: input.actor,
      createdAt: now,
      updatedAt: now,
    });
    if (!sprint) throw conflict('sprint_exists', `${input.service} already has a sprint named “${input.name}”. Pick another name.`);
    const channels = await announceDigest(deps, tx, sprint);
    return { sprint, channels };
  });
  deps.outbox.kick();
  return result;
}

/** What one change to a sprint did, decided while the sprint is locked. */
interface SprintChange {
  changed: boolean;
}

/**
 * Applies a change to a sprint: locks it, lets `apply` write features and their
 * events, then (when something changed) bumps the revision and refreshes the
 * digests that show it, all in one transaction.
 */
async function changeSprint<T extends SprintChange>(
  deps: SprintDeps,
  tx: Database,
  sprintId: string,
  apply: (sprint: SprintRow, now: Date) => Promise<T>,
): Promise<T & { sprint: SprintRow }> {
  const locked = await store.lockSprint(tx, sprintId);
  if (!locked) throw notFound('sprint_not_found', 'That sprint no longer exists.');
  const now = deps.clock.now();
  const outcome = await apply(locked, now);
  if (!outcome.changed) return { ...outcome, sprint: locked };
  const sprint = await store.updateSprint(tx, locked.id, { revision: locked.revision + 1, updatedAt: now });
  await refreshDigests(deps, tx, sprint);
  return { ...outcome, sprint };
}

export async function addFeature(
  deps: SprintDeps,
  input: { service: string; title: string; customerVisible: boolean; actor: string },
): Promise<{ sprint: SprintRow; feature: SprintFeatureRow }> {
  const title = input.title.trim();
  if (!title || title.length > maxFeatureTitleLength) throw invalid('invalid_title', `A feature needs a title of 1 to ${maxFeatureTitleLength} characters.`);
  const current = await requireCurrentSprint(deps.db, input.service);
  const result = await deps.db.transaction((tx) =>
    changeSprint(deps, tx, current.id, async (sprint, now) => {
      const existing = await store.listFeatures(tx, sprint.id);
      const taken = new Set(existing.map((feature) => feature.key.toUpperCase()));
      let number = sprint.featuresAdded + 1;
      while (taken.has(featureKey(number).toUpperCase())) number += 1;
      await store.updateSprint(tx, sprint.id, { featuresAdded: number });
      const [feature] = await store.insertFeatures(tx, [
        {
          sprintId: sprint.id,
          key: featureKey(number),
          title,
          status: 'planned',
          customerVisible: input.customerVisible,
          position: existing.length,
          statusChangedAt: now,
          createdAt: now,
        },
      ]);
      await store.appendFeatureEvents(tx, [{ featureId: feature!.id, at: now, actor: input.actor, fromStatus: null, toStatus: 'planned' }]);
      return { changed: true, feature: feature! };
    }),
  );
  deps.outbox.kick();
  return result;
}

export async function changeFeatureStatus(
  deps: SprintDeps,
  input: { service: string; feature: string; status: FeatureStatus; actor: string },
): Promise<{ sprint: SprintRow; feature: SprintFeatureRow; from: FeatureStatus }> {
  const current = await requireCurrentSprint(deps.db, input.service);
  const result = await deps.db.transaction((tx) =>
    changeSprint(deps, tx, current.id, async (sprint, now) => {
      const feature = await store.findFeatureByKey(tx, sprint.id, input.feature);
      if (!feature) {
        const keys = (await store.listFeatures(tx, sprint.id)).map((candidate) => `\`${candidate.key}\``);
        throw notFound(
          'feature_not_found',
          `${sprint.name} has no feature ${input.feature}. ${keys.length > 0 ? `Its features: ${keys.slice(0, 30).join(', ')}.` : 'It has no features yet: `/sprint add <title>`.'}`,
        );
      }
      if (feature.status === input.status) throw conflict('unchanged', `${feature.key} is already ${input.status}.`);
      const updated = await setFeatureStatus(deps, tx, feature, input.status, input.actor, now);
      return { changed: true, feature: updated, from: feature.status };
    }),
  );
  deps.outbox.kick();
  return result;
}

/** Records a status change with its time, and tells customers whose requests it answers when it ships. */
async function setFeatureStatus(
  deps: SprintDeps,
  tx: Database,
  feature: SprintFeatureRow,
  status: FeatureStatus,
  actor: string,
  now: Date,
): Promise<SprintFeatureRow> {
  const updated = await store.updateFeature(tx, feature.id, { status, statusChangedAt: now });
  await store.appendFeatureEvents(tx, [{ featureId: feature.id, at: now, actor, fromStatus: feature.status, toStatus: status }]);
  if (status === 'done') await tellRequestersItShipped(deps, tx, updated, now);
  return updated;
}

export interface FeatureInput {
  key: string;
  title: string;
  status: FeatureStatus;
  customerVisible: boolean;
}

/**
 * Creates or updates a sprint from a tracker (`PUT /sprints/:key`). Features missing
 * from `features` are marked dropped, not deleted, so requests linked to them keep
 * their history. Sending the same body again changes nothing.
 */
export async function upsertSprint(
  deps: SprintDeps,
  input: { key: string; name: string; service?: string; startsOn: string; endsOn: string; features: FeatureInput[]; actor: string },
): Promise<{ sprint: SprintRow; features: SprintFeatureRow[]; created: boolean }> {
  if (input.service) requireService(deps.catalog, input.service);
  const result = await deps.db.transaction(async (tx) => {
    const now = deps.clock.now();
    let existing = await store.findSprintByKey(tx, input.key);
    let created = false;
    if (!existing) {
      const service = input.service ?? onlyService(deps.catalog);
      existing = await store.insertSprint(tx, { key: input.key, service, name: input.name, startsOn: input.startsOn, endsOn: input.endsOn, createdBy: input.actor, createdAt: now, updatedAt: now });
      created = existing !== undefined;
      // A concurrent PUT of the same key won the insert; update what it created.
      existing ??= await store.findSprintByKey(tx, input.key);
      if (!existing) throw conflict('sprint_conflict', 'The sprint could not be recorded; please try again.');
    }
    if (input.service && input.service !== existing.service) {
      throw conflict('sprint_service_mismatch', `Sprint ${input.key} belongs to ${existing.service}; a sprint cannot move to another service.`);
    }
    const { sprint } = await changeSprint(deps, tx, existing.id, async (locked, at) => {
      const details = locked.name !== input.name || locked.startsOn !== input.startsOn || locked.endsOn !== input.endsOn;
      if (details) await store.updateSprint(tx, locked.id, { name: input.name, startsOn: input.startsOn, endsOn: input.endsOn });
      const featuresChanged = await syncFeatures(deps, tx, locked.id, input.features, input.actor, at);
      return { changed: !created && (details || featuresChanged) };
    });
    // A new sprint that becomes the service's current one has started: customers hear about it.
    if (created && (await store.findCurrentSprint(tx, sprint.service))?.id === sprint.id) await announceDigest(deps, tx, sprint);
    return { sprint, features: await store.listFeatures(tx, sprint.id), created };
  });
  deps.outbox.kick();
  return result;
}

function onlyService(catalog: Catalog): string {
  const names = serviceNames(catalog);
  if (names.length === 1) return names[0]!;
  throw invalid('service_required', `Say which service the sprint belongs to. ${knownServices(catalog)}`, [
    { field: 'service', message: 'is required for a new sprint when the catalog lists more than one service' },
  ]);
}

/** Makes the sprint's features match `wanted`; returns whether anything changed. */
async function syncFeatures(deps: SprintDeps, tx: Database, sprintId: string, wanted: FeatureInput[], actor: string, now: Date): Promise<boolean> {
  const existing = await store.listFeatures(tx, sprintId);
  const byKey = new Map(existing.map((feature) => [feature.key.toUpperCase(), feature]));
  const wantedKeys = new Set(wanted.map((feature) => feature.key.toUpperCase()));
  let changed = false;
  const added: store.NewFeature[] = [];
  for (const feature of wanted) {
    const current = byKey.get(feature.key.toUpperCase());
    if (!current) {
      added.push({ sprintId, ...feature, position: existing.length + added.length, statusChangedAt: now, createdAt: now });
      continue;
    }
    if (current.title !== feature.title || current.customerVisible !== feature.customerVisible) {
      await store.updateFeature(tx, current.id, { title: feature.title, customerVisible: feature.customerVisible });
      changed = true;
    }
    if (current.status !== feature.status) {
      await setFeatureStatus(deps, tx, current, feature.status, actor, now);
      changed = true;
    }
  }
  for (const feature of existing) {
    if (!wantedKeys.has(feature.key.toUpperCase()) && feature.status !== 'dropped') {
      await setFeatureStatus(deps, tx, feature, 'dropped', actor, now);
      changed = true;
    }
  }
  const inserted = await store.insertFeatures(tx, added);
  await store.appendFeatureEvents(tx, inserted.map((feature) => ({ featureId: feature.id, at: now, actor, fromStatus: null, toStatus: feature.status })));
  for (const feature of inserted) if (feature.status === 'done') await tellRequestersItShipped(deps, tx, feature, now);
  return changed || inserted.length > 0;
}

// ---- digests ----------------------------------------------------------------------

/** Posts the current sprint's digest to every subscribed channel of the service now. */
export async function postDigestNow(deps: SprintDeps, service: string): Promise<{ sprint: SprintRow; channels: string[] }> {
  const current = await requireCurrentSprint(deps.db, service);
  const result = await deps.db.transaction(async (tx) => {
    const sprint = await store.lockSprint(tx, current.id);
    if (!sprint) throw notFound('sprint_not_found', 'That sprint no longer exists.');
    return { sprint, channels: await announceDigest(deps, tx, sprint) };
  });
  deps.outbox.kick();
  return result;
}

/**
 * Posts the sprint's digest to every subscribed channel of its service (a sprint
 * started, or someone asked). The post counts as the current period's, so the
 * schedule does not post the same digest again until its next period.
 */
async function announceDigest(deps: SprintDeps, tx: Database, sprint: SprintRow): Promise<string[]> {
  const subscriptions = await store.listActiveSubscriptions(tx, sprint.service);
  const now = deps.clock.now();
  await claimPeriods(
    tx,
    deps.clock,
    subscriptions.flatMap((subscription) => {
      const period = duePeriod(subscription, now);
      return period ? [{ job: digestJob(subscription.id), period }] : [];
    }),
  );
  return postDigests(deps, tx, sprint, subscriptions);
}

/** The subscription's current period, unless it began before the subscription did. */
export function duePeriod(subscription: DigestSubscriptionRow, now: Date): Period | undefined {
  const period = latestPeriod(subscription, now);
  return period && period.at >= subscription.activeSince ? period : undefined;
}

/**
 * Enqueues a new digest message of `sprint` for each of `subscriptions`. Each
 * becomes its subscription's latest digest, the one later changes update in place.
 */
export async function postDigests(deps: SprintDeps, tx: Database, sprint: SprintRow, subscriptions: DigestSubscriptionRow[]): Promise<string[]> {
  if (subscriptions.length === 0) return [];
  const digests = await store.insertDigests(
    tx,
    subscriptions.map((subscription) => ({
      subscriptionId: subscription.id,
      sprintId: sprint.id,
      channel: subscription.channel,
      renderedRevision: sprint.revision,
      createdAt: deps.clock.now(),
    })),
  );
  const message = renderSprintDigest(digestView(sprint, await store.listFeatures(tx, sprint.id), 'customers'));
  await enqueue(
    tx,
    deps.clock,
    digests.map((digest) => postMessage(digestTopic, { channel: digest.channel, ...message }, `sprint-digest:${digest.id}`, digest.id)),
  );
  return digests.map((digest) => digest.channel);
}

/**
 * Updates in place every posted digest that is its subscription's latest and shows
 * this sprint. Digests still waiting in the outbox are brought up to date when
 * their post lands (see recordDigestPosted). Runs in the transaction that locked the sprint.
 */
async function refreshDigests(deps: SprintDeps, tx: Database, sprint: SprintRow): Promise<void> {
  const subscriptions = await store.listActiveSubscriptions(tx, sprint.service);
  const stale = (await store.latestDigests(tx, subscriptions.map((subscription) => subscription.id))).filter(
    (digest) => digest.sprintId === sprint.id && digest.messageTs !== null && digest.renderedRevision < sprint.revision,
  );
  if (stale.length === 0) return;
  const message = renderSprintDigest(digestView(sprint, await store.listFeatures(tx, sprint.id), 'customers'));
  const updates: OutboxMessage[] = [];
  for (const digest of stale) {
    updates.push({
      topic: digestTopic,
      ref: digest.id,
      method: 'chat.update',
      args: { channel: digest.channel, ts: digest.messageTs, ...message },
      dedupKey: `sprint-digest:${digest.id}:revision-${sprint.revision}`,
    });
    await store.updateDigest(tx, digest.id, { renderedRevision: sprint.revision });
  }
  await enqueue(tx, deps.clock, updates);
}

/** The outbox posted a digest: remember where, and catch up on changes made while it waited. */
export async function recordDigestPosted(deps: SprintDeps, row: OutboxRow, response: Record<string, unknown>): Promise<void> {
  if (row.method !== 'chat.postMessage' || !row.ref || typeof response.ts !== 'string') return;
  const ts = response.ts;
  const digestId = row.ref;
  await deps.db.transaction(async (tx) => {
    const digest = await store.findDigest(tx, digestId);
    if (!digest) return;
    // Locking the sprint orders this against status changes: either they see the ts, or this sees their revision.
    const sprint = await store.lockSprint(tx, digest.sprintId);
    await store.updateDigest(tx, digest.id, { messageTs: ts, postedAt: deps.clock.now() });
    if (sprint && sprint.revision > digest.renderedRevision) await refreshDigests(deps, tx, sprint);
  });
  deps.outbox.kick();
}

/** Slack errors that mean the channel will not take digests until a person acts. */
const refusedChannelErrors = new Set(['channel_not_found', 'not_in_channel', 'is_archived']);

/** The outbox gave up on a digest: when the channel refuses posts, stop the subscription and tell its people. */
export async function handleUndeliverableDigest(deps: SprintDeps, row: OutboxRow, error: string): Promise<void> {
  if (!row.ref || !refusedChannelErrors.has(error)) return;
  const digest = await store.findDigest(deps.db, row.ref);
  if (!digest) return;
  await deps.db.transaction(async (tx) => {
    const subscription = await store.disableSubscription(tx, digest.subscriptionId, deps.clock.now(), error);
    // Later messages to the same channel fail the same way; only the first one tells anyone.
    if (!subscription) return;
    deps.logger.warn({ service: subscription.service, channel: subscription.channel, error }, 'digest subscription disabled');
    const service = findService(deps.catalog, subscription.service);
    const people = [...new Set([subscription.subscribedBy, ...(service?.owners ?? [])])];
    const notice = subscriptionDisabledNotice(subscription, describeSlackErrorCode(error));
    const disabledAt = subscription.disabledAt!.toISOString();
    await enqueue(
      tx,
      deps.clock,
      people.map((person) => postMessage(noticeTopic, { channel: person, ...notice }, `sprint-subscription-disabled:${subscription.id}:${disabledAt}:${person}`)),
    );
  });
  deps.outbox.kick();
}

// ---- subscriptions ------------------------------------------------------------------

export async function subscribe(
  deps: SprintDeps,
  input: { channel: string; service?: string; cron?: string; timeZone?: string; actor: string },
): Promise<{ subscription: DigestSubscriptionRow; next: Date | undefined }> {
  const serviceName = serviceOfCustomerChannel(deps.catalog, input.channel, input.service);
  requireSubscriptionManager(deps.catalog, serviceName, input.actor);
  const defaults = requireService(deps.catalog, serviceName).digest;
  const schedule = {
    cron: (input.cron ?? defaults.cron).trim().replace(/\s+/g, ' '),
    timeZone: input.timeZone ?? defaults.timezone ?? deps.timeZone,
  };
  const problem = scheduleProblem(schedule);
  if (problem) throw invalid('invalid_schedule', problem);
  const now = deps.clock.now();
  const subscription = await store.upsertSubscription(deps.db, {
    service: serviceName,
    channel: input.channel,
    cron: schedule.cron,
    timeZone: schedule.timeZone,
    subscribedBy: input.actor,
    activeSince: now,
  });
  return { subscription, next: nextFire(schedule, now) };
}

export async function unsubscribe(
  deps: SprintDeps,
  input: { channel: string; service?: string; actor: string },
): Promise<DigestSubscriptionRow> {
  const serviceName = serviceOfCustomerChannel(deps.catalog, input.channel, input.service);
  requireSubscriptionManager(deps.catalog, serviceName, input.actor);
  const existing = await store.findSubscription(deps.db, serviceName, input.channel);
  const disabled = existing && (await store.disableSubscription(deps.db, existing.id, deps.clock.now(), `unsubscribed by ${input.actor}`));
  if (!disabled) throw notFound('not_subscribed', `<#${input.channel}> does not get the sprint digest of ${serviceName}, so there is nothing to stop.`);
  return disabled;
}

export async function listSubscriptions(deps: SprintDeps, service: string): Promise<Array<{ subscription: DigestSubscriptionRow; next?: Date }>> {
  const now = deps.clock.now();
  return (await store.listActiveSubscriptions(deps.db, service)).map((subscription) => ({ subscription, next: nextFire(subscription, now) }));
}

// ---- customer requests ----------------------------------------------------------------

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

/** The services a request belongs to until a feature answers it: those whose customer channel it was raised in. */
export const servicesOfRequest = (catalog: Catalog, request: CustomerRequestRow) => servicesOfChannel(catalog, request.channel, ['customers']);

export async function requireRequest(db: Database, number: number): Promise<CustomerRequestRow> {
  const request = await store.findRequestByNumber(db, number);
  if (!request) throw notFound('request_not_found', `There is no customer request ${requestKey(number)}. \`/sprint requests\` lists the open ones.`);
  return request;
}

/** Links a request to the feature that answers it; when that feature is already done, the channel is told now. */
export async function linkRequest(
  deps: SprintDeps,
  input: { requestId: string; featureId: string },
): Promise<{ request: CustomerRequestRow; feature: SprintFeatureRow }> {
  const found = await store.findFeatureWithSprint(deps.db, input.featureId);
  if (!found) throw notFound('feature_not_found', 'That feature no longer exists.');
  const result = await deps.db.transaction(async (tx) => {
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
    if (feature.status === 'done') await tellRequestersItShipped(deps, tx, feature, now);
    return { request: linked, feature };
  });
  deps.outbox.kick();
  return result;
}

/** Tells each customer channel, in the thread of its request, that the feature answering it shipped. */
async function tellRequestersItShipped(deps: SprintDeps, tx: Database, feature: SprintFeatureRow, now: Date): Promise<void> {
  const requests = await store.listRequestsAwaitingShipment(tx, feature.id);
  for (const request of requests) await store.updateRequest(tx, request.id, { shippedAt: now });
  await enqueue(
    tx,
    deps.clock,
    requests.map((request) =>
      postMessage(
        requestTopic,
        { channel: request.channel, thread_ts: request.messageTs, ...requestShippedReply(request, feature) },
        `customer-request-shipped:${request.id}`,
        request.id,
      ),
    ),
  );
}
