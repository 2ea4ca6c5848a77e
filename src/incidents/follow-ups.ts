import type { IncidentRow, ProblemRow } from '../db/schema';
import { conflict, invalid, notFound } from '../errors';
import { unitOfWork } from '../unit-of-work';
import type { IncidentDeps } from './deps';
import { type IncidentChange, problemKey } from './model';
import { recordChange } from './notices';
import * as store from './store';

/** Opens a problem record for an incident, so its fix is planned as backlog work. A repeated request answers with the first one. */
export async function createFollowUp(
  deps: IncidentDeps,
  input: { incidentId: string; actor: string; title: string; description?: string; requestKey?: string },
): Promise<{ problem: ProblemRow; incident: IncidentRow }> {
  const title = input.title.trim();
  if (!title) throw invalid('title_required', 'A follow-up needs a title.');
  return unitOfWork(deps, async (work) => {
    const incident = await store.lockIncident(work.tx, input.incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    const repeat = input.requestKey ? await store.findProblemByRequestKey(work.tx, input.requestKey) : undefined;
    if (repeat) return { problem: repeat, incident };
    const now = deps.clock.now();
    const problem = await store.insertProblem(work.tx, {
      incidentId: incident.id,
      title,
      description: input.description?.trim() || null,
      createdBy: input.actor,
      requestKey: input.requestKey ?? null,
      createdAt: now,
    });
    if (!problem) throw conflict('follow_up_conflict', 'That follow-up was just created.');
    const change: IncidentChange = { kind: 'follow_up', problemNumber: problem.number, title };
    await recordChange(work, deps, incident, change, input.actor, now, { problem: problem.id, key: problemKey(problem.number) });
    return { problem, incident };
  });
}
