import { requireService } from '../catalog';
import type { DigestSubscriptionRow } from '../db/schema';
import { invalid, notFound } from '../errors';
import { nextFire, scheduleProblem } from '../jobs/periods';
import type { SprintDeps } from './deps';
import { serviceOfCustomerChannel } from './lookup';
import { requireSubscriptionManager } from './permissions';
import * as store from './store';

/** Which customer channels get a service's sprint digest, and on what schedule. */

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
