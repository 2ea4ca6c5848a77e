import type { DomainModule, ModuleContext } from '../module';
import { incidentRoutes } from './api';
import type { IncidentDeps } from './deps';
import { completeFollowUpOfFeature, reconcileFollowUps } from './follow-ups';
import { noticeTopic } from './messaging';
import { uploadDuePostmortems } from './postmortem-upload';
import { recordUndeliveredNotice } from './notices';
import { register } from './slack';
import { SwarmSetupWorker } from './swarm';

export type { SwarmSetupWorker } from './swarm';

/** Incidents: `/incident`, the swarm channel set-up worker, notices and the incident API. */
export function createIncidents(ctx: ModuleContext): DomainModule & { swarms: SwarmSetupWorker } {
  const deps: IncidentDeps = ctx;
  const swarms = new SwarmSetupWorker(deps);
  // A follow-up's `PRB-n` feature done in the sprint (any path: Slack, the tracker's API) closes the follow-up.
  ctx.events.subscribe((event) => {
    if (event.kind === 'feature' && event.feature.status === 'done') {
      deps.background.run(() => completeFollowUpOfFeature(deps, event.feature.id));
    }
  });
  return {
    swarms,
    register: (app) => register(app, deps),
    routes: incidentRoutes(deps),
    outboxHandlers: [
      noticeTopic.handler({
        failed: async (incidentId, error, row) => {
          if (row.channel) await recordUndeliveredNotice(deps, { incidentId, channel: row.channel }, error);
        },
      }),
    ],
    schedules: [
      // Follow-ups raised before their service had a sprint join it; a done feature nobody heard of closes its follow-up.
      // Postmortem drafts whose upload failed on resolve are retried here.
      { name: 'incident-postmortems', cron: '* * * * *', timeZone: ctx.timeZone, run: () => uploadDuePostmortems(deps), runAtStart: true },
      { name: 'incident-follow-ups', cron: '*/5 * * * *', timeZone: ctx.timeZone, run: () => reconcileFollowUps(deps), runAtStart: true },
    ],
    start: async () => swarms.start(),
    idle: () => swarms.drain(),
    stop: () => swarms.stop(),
  };
}
