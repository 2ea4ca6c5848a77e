import type { DomainModule, ModuleContext } from '../module';
import { changeRoutes } from './api';
import { DecisionFeed } from './decisions';
import type { ChangeDeps } from './deps';
import { changeTopics } from './messaging';
import { changeCommandReadsOnly } from './model';
import { rememberApprovalMessage } from './request';
import { expireStaleChanges, postCabAgenda, remindApprovers } from './scheduled';
import { register } from './slack';

/** What other domains use of changes: an incident's cause, and the sprints change budgets are counted in. */
export { attributeIncident, findChangeByReference } from './attribution';
export { budgetSprintsIn, currentBudgetSprints } from './budget-sprints';
/** What the GitHub gate uses: a run's change is requested and its deployments recorded as any other. */
export { recordDeployment } from './deployments';
export { type ChangeRequest, requestChange } from './request';
export type { ChangeDeps } from './deps';

/** What another domain calls the change use cases with; announcing a decision needs no listener of its own. */
export function changeDepsOf(ctx: ModuleContext): ChangeDeps {
  return { ...ctx, decisions: new DecisionFeed(ctx.database) };
}

/** The change calendar, for the App Home's section. */
export { calendarBlocks, type ChangeCalendar, gatherCalendar } from './calendar';

/** Change approvals: `/change`, votes, the gate API, reminders and expiry. */
export function createChanges(ctx: ModuleContext): DomainModule {
  const decisions = new DecisionFeed(ctx.database);
  const deps: ChangeDeps = { ...ctx, decisions };
  return {
    register: (app) => register(app, deps),
    readOnlyCommands: { '/change': changeCommandReadsOnly },
    routes: changeRoutes(deps),
    outboxHandlers: [
      // Where Slack put an approval request, so it can be updated in place once decided.
      changeTopics.approvalRequest.handler({
        sent: async (changeId, response) => {
          if (typeof response.channel === 'string' && typeof response.ts === 'string') {
            await rememberApprovalMessage(deps, changeId, response.channel, response.ts);
          }
        },
      }),
    ],
    schedules: [
      // Approvers of long-pending changes are nudged once per their service's interval.
      { name: 'change-reminders', cron: '*/5 * * * *', timeZone: ctx.timeZone, run: async () => void (await remindApprovers(deps)) },
      // Undecided changes are cancelled after their service's expiry.
      { name: 'change-expiry', cron: '7,37 * * * *', timeZone: ctx.timeZone, run: async () => void (await expireStaleChanges(deps)) },
      // The CAB agenda: every instance ticks, the claimed period makes it one post; a missed period is posted at start.
      ...(ctx.catalog.cab ? [{ name: 'cab-agenda', cron: '* * * * *', timeZone: ctx.timeZone, run: async () => void (await postCabAgenda(deps)), runAtStart: true }] : []),
    ],
    // Long-polls on other instances hear of decisions through the database.
    start: () => decisions.start(),
    stop: () => decisions.stop(),
  };
}
