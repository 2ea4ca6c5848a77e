import type { IncidentRow, ProblemRow } from '../db/schema';
import { conflict, invalid, notFound } from '../errors';
import { isSlackUserId } from '../slack/text';
import { addFollowUpFeature } from '../sprints/module';
import { unitOfWork, type Work } from '../unit-of-work';
import type { FollowUpPlacementView } from './blocks';
import type { IncidentDeps } from './deps';
import { type FollowUpState, followUpStateLabels, type IncidentChange, incidentKey, problemKey } from './model';
import { recordChange } from './notices';
import * as store from './store';

/**
 * Follow-ups (problem records, `PRB-n`): each has an owner and a state, and enters the
 * service's sprint as an internal feature, so the fix is planned as backlog work.
 * When that feature is done, the follow-up is done and the incident channel hears of it.
 */

/** Where the follow-up went in the backlog, for the answer to whoever raised it. */
type FollowUpPlacement = FollowUpPlacementView;

/** Opens a follow-up for an incident and puts it in the service's sprint. A repeated request answers with the first one. */
export async function createFollowUp(
  deps: IncidentDeps,
  input: { incidentId: string; actor: string; title: string; owner?: string; description?: string; requestKey?: string },
): Promise<{ problem: ProblemRow; incident: IncidentRow; placement?: FollowUpPlacement }> {
  const title = input.title.trim();
  if (!title) throw invalid('title_required', 'A follow-up needs a title.');
  if (input.owner !== undefined && (!isSlackUserId(input.owner) || input.owner === deps.botUserId)) {
    throw invalid('invalid_user', 'The owner of a follow-up must be a person in this workspace.');
  }
  return unitOfWork(deps, async (work) => {
    const incident = await store.lockIncident(work.tx, input.incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    const repeat = input.requestKey ? await store.findProblemByRequestKey(work.tx, input.requestKey) : undefined;
    // A repeat (Slack redelivered the command or the form) answers with the first follow-up; where it went was said then.
    if (repeat) return { problem: repeat, incident };
    const now = deps.clock.now();
    const inserted = await store.insertProblem(work.tx, {
      incidentId: incident.id,
      title,
      description: input.description?.trim() || null,
      owner: input.owner ?? null,
      createdBy: input.actor,
      requestKey: input.requestKey ?? null,
      createdAt: now,
    });
    if (!inserted) throw conflict('follow_up_conflict', 'That follow-up was just created.');
    const { problem, placement } = await enterBacklog(work, deps, inserted, incident, input.actor);
    const change: IncidentChange = { kind: 'follow_up', problemNumber: problem.number, title, ...(input.owner ? { owner: input.owner } : {}) };
    await recordChange(work, deps, incident, change, input.actor, now, { problem: problem.id, key: problemKey(problem.number) });
    return { problem, incident, placement };
  });
}

/** Adds the follow-up's feature to its service's current (or next) sprint, when the service has one. */
async function enterBacklog(
  work: Work,
  deps: IncidentDeps,
  problem: ProblemRow,
  incident: IncidentRow,
  actor: string,
): Promise<{ problem: ProblemRow; placement: FollowUpPlacement }> {
  if (!incident.service) return { problem, placement: { kind: 'no_service' } };
  // Titled by the follow-up alone: the feature must not carry a private incident's title.
  const added = await addFollowUpFeature(work, deps, { service: incident.service, key: problemKey(problem.number), title: problem.title, actor });
  if (!added) return { problem, placement: { kind: 'no_sprint', service: incident.service } };
  const linked = await store.updateProblem(work.tx, problem.id, { featureId: added.feature.id });
  return { problem: linked, placement: { kind: 'sprint', sprint: added.sprint.name, placement: added.placement } };
}

/**
 * Marks a follow-up done or won't-do from the incident channel. `channel` is where the
 * click came from: only the incident's own channel (its people) may change its follow-ups.
 */
export async function setFollowUpState(
  deps: IncidentDeps,
  input: { problemId: string; actor: string; state: FollowUpState; channel: string | undefined },
): Promise<{ problem: ProblemRow; incident: IncidentRow }> {
  return unitOfWork(deps, async (work) => {
    const problem = await store.lockProblem(work.tx, input.problemId);
    if (!problem) throw notFound('follow_up_not_found', 'That follow-up no longer exists.');
    const incident = await store.findIncidentById(work.tx, problem.incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    if (!incident.channelId || input.channel !== incident.channelId) {
      throw conflict('not_allowed', `The follow-ups of ${incidentKey(incident.number)} are changed from its own channel.`);
    }
    if (problem.state === input.state) throw conflict('unchanged', `${problemKey(problem.number)} is already ${followUpStateLabels[input.state]}, so nothing changed.`);
    return { problem: await changeState(work, deps, problem, incident, input.state, input.actor), incident };
  });
}

async function changeState(
  work: Work,
  deps: IncidentDeps,
  problem: ProblemRow,
  incident: IncidentRow,
  state: FollowUpState,
  actor: string,
  feature?: string,
): Promise<ProblemRow> {
  const now = deps.clock.now();
  const updated = await store.updateProblem(work.tx, problem.id, { state, stateChangedAt: now, stateChangedBy: actor });
  const change: IncidentChange = { kind: 'follow_up_state', problemNumber: problem.number, title: problem.title, to: state, ...(feature ? { feature } : {}) };
  await recordChange(work, deps, incident, change, actor, now, { problem: problem.id, key: problemKey(problem.number), state });
  return updated;
}

/**
 * The follow-up whose sprint feature is done becomes done, and its incident channel is
 * told (through the outbox). Once: a repeated or late call finds it done and does nothing.
 */
export async function completeFollowUpOfFeature(deps: IncidentDeps, featureId: string): Promise<ProblemRow | undefined> {
  const found = await store.findProblemByFeature(deps.db, featureId);
  if (!found || found.state !== 'open') return undefined;
  return unitOfWork(deps, async (work) => {
    const problem = await store.lockProblem(work.tx, found.id);
    if (!problem || problem.state !== 'open') return undefined;
    const incident = await store.findIncidentById(work.tx, problem.incidentId);
    if (!incident) return undefined;
    return changeState(work, deps, problem, incident, 'done', 'tandem', problemKey(problem.number));
  });
}

/**
 * What the follow-up features missed: follow-ups raised when their service had no
 * sprint join the sprint that now runs (or comes next), and follow-ups whose feature
 * was done while no instance heard of it are done. Runs on a schedule.
 */
export async function reconcileFollowUps(deps: IncidentDeps, limit = 100): Promise<void> {
  for (const waiting of await store.listProblemsWithoutFeature(deps.db, limit)) {
    await unitOfWork(deps, async (work) => {
      const problem = await store.lockProblem(work.tx, waiting.id);
      const incident = problem ? await store.findIncidentById(work.tx, problem.incidentId) : undefined;
      if (!problem || problem.featureId || problem.state !== 'open' || !incident) return;
      const { placement } = await enterBacklog(work, deps, problem, incident, 'tandem');
      if (placement.kind !== 'sprint') return;
      await store.appendEvent(work.tx, {
        incidentId: incident.id,
        at: deps.clock.now(),
        actor: 'tandem',
        kind: 'follow_up_planned',
        text: `Follow-up ${problemKey(problem.number)} joined sprint ${placement.sprint}`,
        data: { problem: problem.id, key: problemKey(problem.number) },
      });
    });
  }
  for (const done of await store.listOpenProblemsWithDoneFeature(deps.db, limit)) {
    if (done.featureId) await completeFollowUpOfFeature(deps, done.featureId);
  }
}
