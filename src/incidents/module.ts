import type { DomainModule, ModuleContext } from '../module';
import { incidentRoutes } from './api';
import { type IncidentDeps, noticeTopic, recordUndeliveredNotice } from './service';
import { register } from './slack';
import { SwarmSetupWorker } from './swarm';

/** Incidents: `/incident`, the swarm channel set-up worker, notices and the incident API. */
export function createIncidents(ctx: ModuleContext): DomainModule & { swarms: SwarmSetupWorker } {
  const deps: IncidentDeps = ctx;
  const swarms = new SwarmSetupWorker(deps);
  return {
    swarms,
    register: (app) => register(app, deps),
    routes: incidentRoutes(deps),
    outboxHandlers: [
      [
        noticeTopic,
        {
          failed: async (row, error) => {
            if (row.ref && row.channel) await recordUndeliveredNotice(deps, row.ref, row.channel, error);
          },
        },
      ],
    ],
    start: async () => swarms.start(),
    idle: () => swarms.drain(),
    stop: () => swarms.stop(),
  };
}
