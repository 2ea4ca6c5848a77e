import { findChangeById, findDeployment } from '../changes/store';
import type { IncidentRow } from '../db/schema';
import type { Message } from '../slack/blocks';
import type { IncidentDeps } from './deps';
import { listProblems, listTimeline } from './store';
import { type Catchup, catchupReply } from './timeline-blocks';

/** How many of the latest timeline entries the catch-up shows. */
export const catchupEntries = 5;

/**
 * `/incident catchup`: where the incident stands, for one person joining it. Roles
 * are listed from `rolesOf`, so roles besides the commander appear once they are
 * recorded; follow-ups are the incident's problem records that are still open.
 */
export async function catchUp(deps: IncidentDeps, incident: IncidentRow): Promise<Message> {
  const [timeline, problems, change, deployment] = await Promise.all([
    listTimeline(deps.db, incident.id),
    listProblems(deps.db, incident.id),
    incident.causedByChangeId ? findChangeById(deps.db, incident.causedByChangeId) : undefined,
    incident.causedByDeploymentId ? findDeployment(deps.db, incident.causedByDeploymentId) : undefined,
  ]);
  const catchup: Catchup = {
    incident,
    roles: rolesOf(incident),
    lastUpdate: timeline.findLast((entry) => entry.kind === 'update'),
    latest: timeline.slice(-catchupEntries),
    cause: { change, deployment },
    // Problem records have no state or owner of their own yet: whoever raised one owns it, and it is open.
    followUps: problems.map((problem) => ({ problem, state: 'open', owner: problem.createdBy })),
  };
  return catchupReply(catchup);
}

/** The incident's roles and who holds them. */
export function rolesOf(incident: IncidentRow): Catchup['roles'] {
  return [{ role: 'commander', user: incident.commander }];
}
