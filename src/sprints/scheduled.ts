import type { DigestSubscriptionRow, SprintDigestRow, SprintRow } from '../db/schema';
import { claimPeriods, latestPeriod } from '../jobs/periods';
import { dayMs, localDateTime } from '../time';
import { unitOfWork } from '../unit-of-work';
import type { SprintDeps } from './deps';
import { duePeriod, postDigests } from './digests';
import { digestJob, staleRequestsNotices } from './messaging';
import * as store from './store';

/**
 * Scheduled work of sprints. Every instance runs these on every tick; the periods
 * they claim in the database make each post happen once, and a period missed while
 * no instance ran is still unclaimed when the next one starts.
 */

/** Posts each subscription's digest once in each period of its schedule. */
export async function postScheduledDigests(deps: SprintDeps): Promise<void> {
  const now = deps.clock.now();
  const due = (await store.listActiveSubscriptions(deps.db)).filter((subscription) => duePeriod(subscription, now));
  for (const service of new Set(due.map((subscription) => subscription.service))) {
    const subscriptions = due.filter((subscription) => subscription.service === service);
    const sprint = await store.findCurrentSprint(deps.db, service);
    // Without a sprint there is nothing to post; starting one posts it and claims the period.
    if (!sprint) continue;
    const latest = new Map((await store.latestDigests(deps.db, subscriptions.map((s) => s.id))).map((digest) => [digest.subscriptionId, digest]));
    const wanted = subscriptions.filter((subscription) => !finalStateShown(sprint, subscription, latest.get(subscription.id)));
    if (wanted.length === 0) continue;
    await unitOfWork(deps, async (work) => {
      const locked = await store.lockSprint(work.tx, sprint.id);
      if (!locked) return;
      const won = await claimPeriods(
        work.tx,
        deps.clock,
        wanted.map((subscription) => ({ job: digestJob(subscription.id), period: duePeriod(subscription, now)! })),
      );
      await postDigests(deps, work, locked, wanted.filter((subscription) => won.has(digestJob(subscription.id))));
    });
  }
}

/** After a sprint ends, its digest goes out once more with the final state; then the channel rests until the next sprint. */
function finalStateShown(sprint: SprintRow, subscription: DigestSubscriptionRow, latest: SprintDigestRow | undefined): boolean {
  return latest?.sprintId === sprint.id && localDateTime(latest.createdAt, subscription.timeZone).slice(0, 10) > sprint.endsOn;
}

/** When owners hear about requests that no feature answers yet: daily at 09:00 in the service's digest time zone. */
const reminderCron = '0 9 * * *';

/** Tells each service's owners, once a day, which customer requests have waited too long for a feature. */
export async function remindAboutUnlinkedRequests(deps: SprintDeps): Promise<void> {
  const now = deps.clock.now();
  for (const [name, service] of Object.entries(deps.catalog.services)) {
    if (service.channels.customers.length === 0) continue;
    const period = latestPeriod({ cron: reminderCron, timeZone: service.digest.timezone ?? deps.timeZone }, now);
    if (!period) continue;
    const days = service.request_followup_days;
    const waiting = await store.listUnlinkedRequests(deps.db, service.channels.customers, new Date(now.getTime() - days * dayMs));
    const job = `customer-request-reminder:${name}`;
    await unitOfWork(deps, async (work) => {
      const won = await claimPeriods(work.tx, deps.clock, [{ job, period }]);
      if (!won.has(job) || waiting.length === 0) return;
      await work.send(staleRequestsNotices({ service: name, days, owners: service.owners, job, periodKey: period.key }, waiting));
    });
  }
}
