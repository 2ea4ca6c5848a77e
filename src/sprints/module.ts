import type { DomainModule, ModuleContext } from '../module';
import { sprintRoutes } from './api';
import { postScheduledDigests, remindAboutUnlinkedRequests } from './scheduled';
import type { SprintDeps } from './deps';
import { handleUndeliverableDigest, recordDigestPosted } from './digests';
import { digestTopic } from './messaging';
import { sprintCommandReadsOnly } from './model';
import { register } from './slack';

/** What other domains use of sprints: incident follow-ups enter the backlog as internal `PRB-n` features. */
export { addFollowUpFeature, type FollowUpFeature, isFollowUpFeatureKey } from './follow-up-features';

/** Sprint digests and customer requests: `/sprint`, the request shortcut, digest schedules. */
export function createSprints(ctx: ModuleContext): DomainModule {
  const deps: SprintDeps = ctx;
  return {
    register: (app) => register(app, deps),
    readOnlyCommands: { '/sprint': sprintCommandReadsOnly },
    routes: sprintRoutes(deps),
    outboxHandlers: [
      digestTopic.handler({
        sent: (digestId, response) => recordDigestPosted(deps, digestId, response),
        failed: (digestId, error) => handleUndeliverableDigest(deps, digestId, error),
      }),
    ],
    schedules: [
      // Each subscription has its own schedule; the tick posts those whose period has come and is unclaimed.
      { name: 'sprint-digests', cron: '* * * * *', timeZone: ctx.timeZone, run: () => postScheduledDigests(deps), runAtStart: true },
      // Owners hear once a day about customer requests that no feature answers yet.
      { name: 'customer-request-reminders', cron: '*/5 * * * *', timeZone: ctx.timeZone, run: () => remindAboutUnlinkedRequests(deps), runAtStart: true },
    ],
  };
}
