import { approversOf, type Catalog, findService, policyOf, type ServiceConfig, serviceNames } from '../catalog';
import type { Database } from '../db/client';
import type { ChangeRow, PolicyExplanation } from '../db/schema';
import { conflict, invalid } from '../errors';
import { unitOfWork } from '../unit-of-work';
import { budgetSprintAt, budgetSprintsBefore } from './budget-sprints';
import type { ChangeDeps } from './deps';
import { announcementsOf, requesterMessages } from './messaging';
import { activeFreeze, type ChangeRisk, type ChangeType, defaultEnvironment, defaultRisk, mayVote, maxTitleLength, type Sprint } from './model';
import { hourMs } from '../time';
import { evaluateStandardChange, nextBudget, type StandardChangeFacts, successRate } from './policy';
import * as store from './store';
import { audit, decide, refreshMessages } from './transitions';
import { conflictSummary, recheckConflicts, refreshNeighbours } from './conflicts';

/** Requesting a change: validation, the first decision (freeze, emergency, policy or approvers) and its announcement. */

export interface ChangeRequest {
  service: string;
  title: string;
  type: ChangeType;
  risk?: ChangeRisk;
  environment?: string;
  description?: string;
  rollbackPlan?: string;
  justification?: string;
  plannedStart?: Date;
  plannedEnd?: Date;
  ref?: string;
  commitSha?: string;
  /** A Slack user ID, or `api:<token name>`. */
  requestedBy: string;
  /** The Slack delivery or API request; a repeat returns the change it created. */
  requestKey?: string;
  /** Whether the requester is sent a DM about the request itself; Slack requests answer in place instead. */
  notifyRequester?: boolean;
}

type FieldError = { field: string; message: string };

function validateRequest(catalog: Catalog, request: ChangeRequest): { service: ServiceConfig; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const service = findService(catalog, request.service);
  if (!service) {
    const known = serviceNames(catalog);
    errors.push({
      field: 'service',
      message: known.length > 0 ? `there is no service "${request.service}"; known services: ${known.join(', ')}` : `there is no service "${request.service}": the catalog lists no services yet`,
    });
  }
  const title = request.title.trim();
  if (!title) errors.push({ field: 'title', message: 'is required' });
  if (title.length > maxTitleLength) errors.push({ field: 'title', message: `must be at most ${maxTitleLength} characters` });
  if (request.environment !== undefined && !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(request.environment)) {
    errors.push({ field: 'environment', message: 'must be lower case letters, digits, - or _ (for example production)' });
  }
  if (request.type === 'emergency' && !(request.justification ?? request.description)?.trim()) {
    errors.push({ field: 'justification', message: 'is required for an emergency change: say why it cannot wait (the description is used when no justification is given)' });
  }
  if (request.plannedEnd && !request.plannedStart) errors.push({ field: 'planned_start', message: 'is required when a planned end is given' });
  if (request.plannedStart && !request.plannedEnd) errors.push({ field: 'planned_end', message: 'is required when a planned start is given (give both, or neither for "as soon as approved")' });
  if (request.plannedStart && request.plannedEnd && request.plannedEnd <= request.plannedStart) {
    errors.push({ field: 'planned_end', message: 'must be after the planned start' });
  }
  if (service && request.type !== 'emergency') {
    const eligible = [...approversOf(catalog, service)].filter((user) => mayVote(catalog, request, user));
    if (eligible.length < service.approvers.quorum) {
      errors.push({
        field: 'service',
        message: `${request.service} needs ${service.approvers.quorum} approval${service.approvers.quorum === 1 ? '' : 's'} but has ${eligible.length} approver${eligible.length === 1 ? '' : 's'} other than the requester; add approvers to it in tandem.yaml`,
      });
    }
  }
  return { service: service as ServiceConfig, errors };
}

/**
 * Records a change and decides what happens next: a freeze rejects it, an emergency
 * passes and is flagged, a standard change is put to the policy, and a normal
 * change (or a standard one the policy declines) goes to its approvers.
 */
export async function requestChange(deps: ChangeDeps, request: ChangeRequest): Promise<{ change: ChangeRow; created: boolean }> {
  const { service, errors } = validateRequest(deps.catalog, request);
  if (errors.length > 0) {
    throw invalid('validation_failed', errors.map((error) => `${error.field} ${error.message}`).join('; '), errors);
  }
  return unitOfWork(deps, async ({ tx, send, emit }) => {
    if (request.requestKey) {
      const repeat = await store.findChangeByRequestKey(tx, request.requestKey);
      if (repeat) return { change: repeat, created: false };
    }
    const now = deps.clock.now();
    const sprint = await budgetSprintAt(tx, deps, request.service, now);
    const inserted = await store.insertChange(tx, {
      service: request.service,
      title: request.title.trim(),
      type: request.type,
      risk: request.risk ?? defaultRisk[request.type],
      environment: request.environment ?? defaultEnvironment,
      description: request.description?.trim() || null,
      rollbackPlan: request.rollbackPlan?.trim() || null,
      justification: request.type === 'emergency' ? (request.justification ?? request.description)?.trim() || null : null,
      plannedStart: request.plannedStart ?? null,
      plannedEnd: request.plannedEnd ?? null,
      ref: request.ref ?? null,
      commitSha: request.commitSha ?? null,
      requestedBy: request.requestedBy,
      requestKey: request.requestKey ?? null,
      requestedAt: now,
      sprint: sprint.key,
      updatedAt: now,
    });
    if (!inserted) {
      const raced = request.requestKey ? await store.findChangeByRequestKey(tx, request.requestKey) : undefined;
      if (raced) return { change: raced, created: false };
      throw conflict('change_conflict', 'The change could not be recorded; please try again.');
    }
    await audit(tx, inserted, request.requestedBy, 'requested', now, { type: inserted.type, risk: inserted.risk, environment: inserted.environment });
    const withConflicts = await recheckConflicts(tx, deps, inserted);
    const change = await firstDecision(tx, deps, withConflicts, service, sprint, now);
    await send([...(await refreshNeighbours(tx, deps, change)), ...announcementsOf(change, deps.catalog, service), ...(request.notifyRequester === false ? [] : requesterMessages(change))]);
    if (change.status !== 'pending') await deps.decisions.announce(tx, change.id);
    emit({ kind: 'change', change });
    return { change, created: true };
  });
}

async function firstDecision(tx: Database, deps: ChangeDeps, change: ChangeRow, service: ServiceConfig, sprint: Sprint, now: Date): Promise<ChangeRow> {
  const freeze = activeFreeze(deps.catalog, change.service, now, deps.timeZone);
  const plannedInFreeze = change.conflicts.find((conflict) => conflict.kind === 'freeze' && conflict.blocking);
  if (!freeze && plannedInFreeze) {
    const explanation: PolicyExplanation = {
      rule: 'freeze_window',
      outcome: 'rejected',
      summary: `Not in a freeze: ${plannedInFreeze.message}. Only emergency changes, with a justification, may go ahead then; plan it outside the freeze.`,
      figures: { planned_start: change.plannedStart?.toISOString() ?? null, planned_end: change.plannedEnd?.toISOString() ?? null },
    };
    await audit(tx, change, 'policy', 'policy_evaluated', now, { ...explanation });
    return decide(tx, change, { status: 'rejected', by: ['policy'], reason: explanation.summary, at: now }, { policy: explanation });
  }
  if (freeze && change.type !== 'emergency') {
    const explanation: PolicyExplanation = {
      rule: 'freeze_window',
      outcome: 'rejected',
      summary: `Changes to ${change.service} are frozen from ${freeze.from} to ${freeze.to}${freeze.reason ? ` (${freeze.reason})` : ''}. Only emergency changes, with a justification, may go ahead.`,
      figures: { freeze_from: freeze.from, freeze_to: freeze.to, reason: freeze.reason ?? null },
    };
    await audit(tx, change, 'policy', 'policy_evaluated', now, { ...explanation });
    return decide(tx, change, { status: 'rejected', by: ['policy'], reason: explanation.summary, at: now }, { policy: explanation });
  }
  if (change.type === 'emergency') {
    const explanation: PolicyExplanation = {
      rule: 'emergency',
      outcome: 'approved',
      summary: `Emergency change: it goes ahead now on the requester's justification${freeze ? `, despite the freeze until ${freeze.to}` : ''}, and is flagged for retrospective review.`,
      figures: { freeze: freeze ? { from: freeze.from, to: freeze.to } : null },
    };
    await audit(tx, change, 'policy', 'policy_evaluated', now, { ...explanation });
    return decide(tx, change, { status: 'approved', by: ['policy'], reason: explanation.summary, at: now }, { policy: explanation, reviewRequired: true });
  }
  const conflicts = change.conflicts.filter((conflict) => conflict.kind !== 'freeze');
  if (change.type === 'standard' && conflicts.length > 0) {
    // A conflict needs a person's judgement: the policy does not decide, nor spend the budget.
    const explanation: PolicyExplanation = {
      rule: 'conflict',
      outcome: 'needs_approval',
      summary: `Sent to its approvers instead of the policy, because of ${conflicts.length === 1 ? 'a conflict' : `${conflicts.length} conflicts`}: ${conflictSummary(conflicts)}.`,
      figures: { conflicts: conflicts.map(({ kind, key }) => ({ kind, key: key ?? null })) },
    };
    await audit(tx, change, 'policy', 'policy_evaluated', now, { ...explanation });
    return store.updateChange(tx, change.id, { policy: explanation });
  }
  if (change.type === 'standard') {
    const explanation = evaluateStandardChange(await standardChangeFacts(tx, deps, change.service, service, sprint, now));
    await audit(tx, change, 'policy', 'policy_evaluated', now, { ...explanation });
    if (explanation.outcome === 'approved') {
      return decide(tx, change, { status: 'approved', by: ['policy'], reason: explanation.summary, at: now }, { policy: explanation, approvedByPolicy: true });
    }
    return store.updateChange(tx, change.id, { policy: explanation });
  }
  return change;
}

/**
 * The figures the standard-change policy decides on. The sprint's budget row is
 * set on first use and locked, so concurrent evaluations take turns and never
 * spend the same budget twice.
 */
async function standardChangeFacts(
  tx: Database,
  deps: ChangeDeps,
  serviceName: string,
  service: ServiceConfig,
  sprint: Sprint,
  now: Date,
): Promise<StandardChangeFacts> {
  const policy = policyOf(deps.catalog, service);
  const earlier = await budgetSprintsBefore(tx, deps, serviceName, sprint, Math.max(2, policy.lookback_sprints));
  const settledBefore = new Date(now.getTime() - policy.attribution_hours * hourMs);
  const outcomes = await store.sprintOutcomes(tx, serviceName, earlier.map((s) => s.key), settledBefore);
  let budget = await store.findBudget(tx, serviceName, sprint.key);
  if (!budget) {
    const previous = await store.latestBudgetBefore(tx, serviceName, sprint.key);
    const [last, prior] = outcomes.map((outcome) => successRate([outcome]).rate);
    const decision = nextBudget(policy.budget, previous?.budget, last ?? null, prior ?? null);
    budget = await store.insertBudget(tx, {
      service: serviceName,
      sprint: sprint.key,
      budget: decision.budget,
      previousBudget: previous?.budget ?? null,
      lastRate: last ?? null,
      priorRate: prior ?? null,
      reason: decision.reason,
      setAt: now,
    });
  }
  await store.lockBudget(tx, serviceName, sprint.key);
  return {
    sprint: sprint.key,
    budget: budget.budget,
    budgetReason: budget.reason,
    used: await store.countPolicyApprovals(tx, serviceName, sprint.key),
    history: successRate(outcomes.slice(0, policy.lookback_sprints)),
    threshold: policy.success_threshold,
  };
}

/** After Slack took an approval request, remember where it is; if the change was decided meanwhile, update it at once. */
export async function rememberApprovalMessage(deps: ChangeDeps, changeId: string, channel: string, ts: string): Promise<void> {
  await unitOfWork(deps, async ({ tx, send }) => {
    await store.recordChangeMessage(tx, { changeId, channel, ts, kind: 'approval' });
    const change = await store.findChangeById(tx, changeId);
    if (!change || change.status === 'pending' || change.type === 'emergency') return;
    await send(await refreshMessages(tx, deps.catalog, change));
  });
}

