import type { DomainModule, ModuleContext } from '../module';
import { incidentRoutes } from './api';
import type { IncidentDeps } from './deps';
import { noticeTopic } from './messaging';
import { recordUndeliveredNotice } from './notices';
import { registerConversation } from './conversation';
import { pruneConversations } from './retention';
import { register } from './slack';
import { SwarmSetupWorker } from './swarm';

export type { SwarmSetupWorker } from './swarm';

/** Incidents: `/incident`, the swarm channel set-up worker, notices and the incident API. */
export function createIncidents(ctx: ModuleContext): DomainModule & { swarms: SwarmSetupWorker } {
  const deps: IncidentDeps = ctx;
  const swarms = new SwarmSetupWorker(deps);
  return {
    swarms,
    register: (app) => {
      register(app, deps);
      registerConversation(app, deps);
    },
    routes: incidentRoutes(deps),
    outboxHandlers: [
      noticeTopic.handler({
        failed: async (incidentId, error, row) => {
          if (row.channel) await recordUndeliveredNotice(deps, { incidentId, channel: row.channel }, error);
        },
      }),
    ],
    schedules: [
      // Stored channel messages are kept only for incidents.message_retention_days after the channel is archived.
      { name: 'incident-message-retention', cron: '41 * * * *', timeZone: ctx.timeZone, run: async () => void (await pruneConversations(deps)), runAtStart: true },
    ],
    start: async () => swarms.start(),
    idle: () => swarms.drain(),
    stop: () => swarms.stop(),
  };
}
