import type { DomainModule, ModuleContext } from '../module';
import { incidentRoutes } from './api';
import type { IncidentDeps } from './deps';
import { completeFollowUpOfFeature } from './follow-ups';
import { noticeTopic } from './messaging';
import { incidentCommandReadsOnly } from './model';
import { recordUndeliveredNotice } from './notices';
import { archiveHandler } from './archive';
import { reminderTopic } from './reminders';
import { incidentSchedules } from './scheduled';
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
    readOnlyCommands: { '/incident': incidentCommandReadsOnly },
    routes: incidentRoutes(deps),
    schedules: incidentSchedules(deps),
    outboxHandlers: [
      reminderTopic.handler({
        failed: async (incidentId, error, row) => {
          if (row.channel) await recordUndeliveredNotice(deps, { incidentId, channel: row.channel }, error);
        },
      }),
      archiveHandler(deps),
      noticeTopic.handler({
        failed: async (incidentId, error, row) => {
          if (row.channel) await recordUndeliveredNotice(deps, { incidentId, channel: row.channel }, error);
        },
      }),
    ],
    start: async () => swarms.start(),
    idle: () => swarms.drain(),
    stop: () => swarms.stop(),
  };
}
