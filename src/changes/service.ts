import type { WebClient } from '@slack/web-api';
import type { BackgroundWork } from '../background';
import type { DomainEvents } from '../events';
import { approversOf, type Catalog, findService, policyOf, type ServiceConfig, serviceNames } from '../catalog';
import type { Database } from '../db/client';
import type { ChangeRow, DeploymentRow, PolicyExplanation } from '../db/schema';
import { conflict, forbidden, hasErrorCode, invalid, notFound } from '../errors';
import type { Logger } from '../log';
import { findByReference } from '../references';
import type { Message } from '../slack/blocks';
import { enqueue, type OutboxMessage, type OutboxWorker } from '../slack/outbox';
import { isSlackUserId } from '../slack/text';
import type { Clock } from '../time';
import {
  type ApprovalProgress,
  changeMessage,
  deploymentNotice,
  emergencyAnnouncement,
  requesterNotice,
  voteProgressNotice,
} from './blocks';
import { budgetSprintAt, budgetSprintsBefore } from './budget-sprints';
import type { DecisionFeed } from './decisions';
import {
  activeFreeze,
  type ChangeRisk,
  type ChangeType,
  changeKey,
  defaultEnvironment,
  defaultRisk,
  deployRefusal,
  isProduction,
  maxTitleLength,
  type Sprint,
} from './model';
import { evaluateStandardChange, nextBudget, type StandardChangeFacts, successRate } from './policy';
import * as store from './store';

export interface ChangeDeps {
  db: Database;
  events: DomainEvents;
  clock: Clock;
  catalog: Catalog;
  slack: WebClient;
  outbox: OutboxWorker;
  background: BackgroundWork;
  logger: Logger;
  timeZone: string;
  decisions: DecisionFeed;
}

export const changeTopics = {
  /** Messages with the vote buttons; each is recorded so it can be updated in place. */
  approvalRequest: 'change.approval_request',
  notice: 'change.notice',
} as const;

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
  if (request.plannedStart && request.plannedEnd && request.plannedEnd <= request.plannedStart) {
    errors.push({ field: 'planned_end', message: 'must be after the planned start' });
  }
  if (service && request.type !== 'emergency') {
    const eligible = [...approversOf(catalog, service)].filter((user) => user !== request.requestedBy);
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
  const result = await deps.db.transaction(async (tx) => {
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
    const change = await firstDecision(tx, deps, inserted, service, sprint, now);
    await enqueue(tx, deps.clock, [
      ...announcementsOf(change, deps.catalog, service),
      ...(request.notifyRequester === false ? [] : requesterMessages(change)),
    ]);
    if (change.status !== 'pending') await deps.decisions.announce(tx, change.id);
    return { change, created: true };
  });
  deps.outbox.kick();
  if (result.created) deps.events.emit({ kind: 'change', change: result.change });
  return result;
}

async function firstDecision(tx: Database, deps: ChangeDeps, change: ChangeRow, service: ServiceConfig, sprint: Sprint, now: Date): Promise<ChangeRow> {
  const freeze = activeFreeze(deps.catalog, change.service, now, deps.timeZone);
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
  const settledBefore = new Date(now.getTime() - policy.attribution_hours * 3_600_000);
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

async function decide(
  tx: Database,
  change: ChangeRow,
  decision: { status: 'approved' | 'rejected' | 'cancelled'; by: string[]; reason: string | null; at: Date },
  extra: store.ChangePatch = {},
): Promise<ChangeRow> {
  const decided = await store.updateChange(tx, change.id, {
    ...extra,
    status: decision.status,
    decidedAt: decision.at,
    decidedBy: decision.by,
    decisionReason: decision.reason,
    updatedAt: decision.at,
  });
  await audit(tx, decided, decision.by.join(','), decision.status, decision.at, { reason: decision.reason });
  return decided;
}

function audit(tx: Database, change: ChangeRow, actor: string, action: string, at: Date, details: Record<string, unknown>) {
  return store.appendAudit(tx, { changeId: change.id, at, actor, action, details });
}

/** Who may vote on a service's changes, as the approval message names them. */
function describeApprovers(service: ServiceConfig): string {
  const groups = service.approvers.groups.map((group) => `*${group}*`);
  const users = service.approvers.users.map((user) => `<@${user}>`);
  return [...groups, ...users].join(', ') || 'nobody';
}

async function progressOf(db: Database, catalog: Catalog, change: ChangeRow): Promise<ApprovalProgress> {
  const service = findService(catalog, change.service);
  const votes = await store.listVotes(db, change.id);
  return {
    quorum: service?.approvers.quorum ?? 1,
    approvedBy: votes.filter((vote) => vote.choice === 'approve').map((vote) => vote.voter),
    approvers: service ? describeApprovers(service) : 'nobody',
  };
}

/** The approval request, or an emergency's announcement: to the approvals channel, else to each approver. */
function announcementsOf(change: ChangeRow, catalog: Catalog, service: ServiceConfig): OutboxMessage[] {
  const messages: OutboxMessage[] = [];
  const progress: ApprovalProgress = { quorum: service.approvers.quorum, approvedBy: [], approvers: describeApprovers(service) };
  const shown = changeMessage(change, progress);
  const needsAnnouncing = change.status === 'pending' || change.type === 'emergency';
  if (needsAnnouncing) {
    const body = change.type === 'emergency' ? { ...shown, text: emergencyAnnouncement(change).text } : shown;
    const targets = service.channels.approvals
      ? [service.channels.approvals]
      : [...approversOf(catalog, service)].filter((user) => user !== change.requestedBy);
    for (const channel of targets) {
      messages.push({
        topic: changeTopics.approvalRequest,
        ref: change.id,
        method: 'chat.postMessage',
        args: { channel, ...body, unfurl_links: false },
        dedupKey: `change:${change.id}:request:${channel}`,
      });
    }
  }
  return messages;
}

function requesterMessages(change: ChangeRow, message: Message = requesterNotice(change), key: string = change.status): OutboxMessage[] {
  if (!isSlackUserId(change.requestedBy)) return [];
  return [
    {
      topic: changeTopics.notice,
      ref: change.id,
      method: 'chat.postMessage',
      args: { channel: change.requestedBy, ...message },
      dedupKey: `change:${change.id}:requester:${key}`,
    },
  ];
}

/** Re-renders every recorded approval message of a change, so buttons vanish once it is decided. */
async function refreshMessages(tx: Database, catalog: Catalog, change: ChangeRow): Promise<OutboxMessage[]> {
  const progress = await progressOf(tx, catalog, change);
  const recorded = await store.listChangeMessages(tx, change.id);
  return recorded
    .filter((message) => message.kind === 'approval')
    .map((message) => ({
      topic: changeTopics.notice,
      ref: change.id,
      method: 'chat.update',
      args: { channel: message.channel, ts: message.ts, ...changeMessage(change, progress) },
    }));
}

/** Posts a line in the thread of the approval request in the approvals channel, when there is one. */
async function threadNotice(tx: Database, catalog: Catalog, change: ChangeRow, message: Message, key: string): Promise<OutboxMessage[]> {
  const channel = findService(catalog, change.service)?.channels.approvals;
  if (!channel) return [];
  const recorded = (await store.listChangeMessages(tx, change.id)).find((candidate) => candidate.channel === channel);
  return recorded
    ? [{ topic: changeTopics.notice, ref: change.id, method: 'chat.postMessage', args: { channel, thread_ts: recorded.ts, ...message }, dedupKey: `change:${change.id}:${key}` }]
    : [];
}

/** After Slack took an approval request, remember where it is; if the change was decided meanwhile, update it at once. */
export async function rememberApprovalMessage(deps: ChangeDeps, changeId: string, channel: string, ts: string): Promise<void> {
  const follow = await deps.db.transaction(async (tx) => {
    await store.recordChangeMessage(tx, { changeId, channel, ts, kind: 'approval' });
    const change = await store.findChangeById(tx, changeId);
    if (!change || change.status === 'pending' || change.type === 'emergency') return false;
    await enqueue(tx, deps.clock, await refreshMessages(tx, deps.catalog, change));
    return true;
  });
  if (follow) deps.outbox.kick();
}

export type VoteOutcome = { change: ChangeRow; progress: ApprovalProgress; decided: boolean };

/**
 * One person's vote. Only the service's approvers vote, never on their own change,
 * once each (the primary key says so even under retries and races); the row lock
 * makes concurrent votes take turns, so exactly one of them decides.
 */
export async function recordVote(
  deps: ChangeDeps,
  input: { changeId: string; voter: string; choice: 'approve' | 'reject'; reason?: string },
): Promise<VoteOutcome> {
  const result = await deps.db.transaction(async (tx) => {
    const change = await store.lockChange(tx, input.changeId);
    if (!change) throw notFound('change_not_found', 'That change no longer exists.');
    const key = changeKey(change.number);
    if (change.status !== 'pending') {
      throw conflict('change_decided', `${key} is no longer waiting for approval (${change.status}), so nothing changed.`);
    }
    const service = findService(deps.catalog, change.service);
    if (!service || !approversOf(deps.catalog, service).has(input.voter)) {
      throw forbidden('not_an_approver', `Only ${service ? describeApprovers(service) : 'the service’s approvers'} may vote on ${change.service} changes.`);
    }
    if (input.voter === change.requestedBy) {
      throw forbidden('own_change', `You requested ${key}, so someone else has to approve it (separation of duties).`);
    }
    const reason = input.reason?.trim();
    if (input.choice === 'reject' && !reason) throw invalid('reason_required', 'Say why you reject it: the requester needs to know.');
    const now = deps.clock.now();
    const vote = await store.insertVote(tx, { changeId: change.id, voter: input.voter, choice: input.choice, reason: reason ?? null, at: now });
    if (!vote) throw conflict('already_voted', `You already voted on ${key}; votes are final.`);
    await store.appendAudit(tx, { changeId: change.id, at: now, actor: input.voter, action: 'vote', details: { choice: input.choice, reason: reason ?? null } });

    let current = change;
    const progress = await progressOf(tx, deps.catalog, change);
    if (input.choice === 'reject') {
      current = await decide(tx, change, { status: 'rejected', by: [input.voter], reason: reason ?? null, at: now });
    } else if (progress.approvedBy.length >= progress.quorum) {
      current = await decide(tx, change, { status: 'approved', by: progress.approvedBy, reason: null, at: now });
    }
    const decided = current.status !== 'pending';
    const messages = await refreshMessages(tx, deps.catalog, current);
    if (decided) {
      messages.push(...requesterMessages(current));
      await deps.decisions.announce(tx, current.id);
    } else {
      messages.push(...requesterMessages(current, voteProgressNotice(current, input.voter, progress), `vote-${input.voter}`));
    }
    await enqueue(tx, deps.clock, messages);
    return { change: current, progress, decided };
  });
  deps.outbox.kick();
  deps.events.emit({ kind: 'change', change: result.change });
  return result;
}

/** The requester, or one of the service's approvers, withdraws a change that has not been deployed. */
export async function cancelChange(deps: ChangeDeps, changeId: string, actor: string, reason = 'withdrawn'): Promise<ChangeRow> {
  return closeChange(deps, changeId, actor, (change) => {
    const service = findService(deps.catalog, change.service);
    const mayCancel = actor === change.requestedBy || (service && approversOf(deps.catalog, service).has(actor));
    if (!mayCancel) throw forbidden('not_allowed', `Only the requester or ${change.service}'s approvers may cancel ${changeKey(change.number)}.`);
    if (change.status !== 'pending' && change.status !== 'approved') {
      throw conflict('change_closed', `${changeKey(change.number)} is ${change.status}; only pending or approved changes can be cancelled.`);
    }
    return reason;
  });
}

async function closeChange(deps: ChangeDeps, changeId: string, actor: string, check: (change: ChangeRow) => string): Promise<ChangeRow> {
  const result = await deps.db.transaction(async (tx) => {
    const change = await store.lockChange(tx, changeId);
    if (!change) throw notFound('change_not_found', 'That change does not exist.');
    const reason = check(change);
    const cancelled = await decide(tx, change, { status: 'cancelled', by: [actor], reason, at: deps.clock.now() });
    await enqueue(tx, deps.clock, [...(await refreshMessages(tx, deps.catalog, cancelled)), ...requesterMessages(cancelled)]);
    await deps.decisions.announce(tx, cancelled.id);
    return cancelled;
  });
  deps.outbox.kick();
  deps.events.emit({ kind: 'change', change: result });
  return result;
}

/** An approver marks an emergency change's retrospective review done. */
export async function markReviewed(deps: ChangeDeps, changeId: string, actor: string): Promise<ChangeRow> {
  return deps.db.transaction(async (tx) => {
    const change = await store.lockChange(tx, changeId);
    if (!change) throw notFound('change_not_found', 'That change does not exist.');
    const service = findService(deps.catalog, change.service);
    if (!service || !approversOf(deps.catalog, service).has(actor)) {
      throw forbidden('not_an_approver', `Only ${change.service}'s approvers may sign off a review.`);
    }
    if (!change.reviewRequired) throw conflict('no_review_pending', `${changeKey(change.number)} has no review pending.`);
    const now = deps.clock.now();
    const reviewed = await store.updateChange(tx, change.id, { reviewRequired: false, updatedAt: now });
    await store.appendAudit(tx, { changeId: change.id, at: now, actor, action: 'reviewed', details: {} });
    return reviewed;
  });
}

/** Nudges approvers of changes waiting longer than their service's reminder interval, once per interval. */
export async function remindApprovers(deps: ChangeDeps): Promise<number> {
  const now = deps.clock.now();
  const intervalMs = (change: ChangeRow) => (findService(deps.catalog, change.service)?.approvers.remind_after_hours ?? 4) * 3_600_000;
  const due = await store.claimDueReminders(
    deps.db,
    now,
    (change) => now.getTime() - (change.lastRemindedAt ?? change.requestedAt).getTime() >= intervalMs(change),
  );
  for (const change of due) {
    const service = findService(deps.catalog, change.service);
    if (!service) continue;
    const voted = new Set((await store.listVotes(deps.db, change.id)).map((vote) => vote.voter));
    const waitingOn = [...approversOf(deps.catalog, service)].filter((user) => user !== change.requestedBy && !voted.has(user));
    const hours = Math.round((now.getTime() - change.requestedAt.getTime()) / 3_600_000);
    const message = {
      text: `⏰ ${changeKey(change.number)} has waited ${hours}h for approval. ${waitingOn.map((user) => `<@${user}>`).join(' ')}`.trim(),
    };
    const key = `remind-${now.toISOString()}`;
    const inThread = await threadNotice(deps.db, deps.catalog, change, message, key);
    const direct = inThread.length > 0 ? [] : waitingOn.map((user) => ({ topic: changeTopics.notice, ref: change.id, method: 'chat.postMessage', args: { channel: user, ...message }, dedupKey: `change:${change.id}:${key}:${user}` }));
    await enqueue(deps.db, deps.clock, [...inThread, ...direct]);
    await store.appendAudit(deps.db, { changeId: change.id, at: now, actor: 'policy', action: 'reminded', details: { waiting_on: waitingOn } });
  }
  if (due.length > 0) deps.outbox.kick();
  return due.length;
}

/** Cancels changes nobody decided within their service's expiry. */
export async function expireStaleChanges(deps: ChangeDeps): Promise<number> {
  const now = deps.clock.now();
  const shortest = Math.min(7, ...Object.values(deps.catalog.services).map((service) => service.approvers.expire_after_days));
  const candidates = await store.listPendingRequestedBefore(deps.db, new Date(now.getTime() - shortest * 86_400_000));
  let expired = 0;
  for (const candidate of candidates) {
    const days = findService(deps.catalog, candidate.service)?.approvers.expire_after_days ?? 7;
    if (now.getTime() - candidate.requestedAt.getTime() < days * 86_400_000) continue;
    try {
      await closeChange(deps, candidate.id, 'policy', (change) => {
        if (change.status !== 'pending') throw conflict('change_decided', 'decided meanwhile');
        return `expired after ${days} days without a decision`;
      });
      expired += 1;
    } catch (error) {
      // Decided by someone else between the list and the lock: nothing to expire.
      if (!hasErrorCode(error, 'change_decided')) throw error;
    }
  }
  return expired;
}

export interface DeploymentReport {
  service: string;
  environment: string;
  status: 'success' | 'failure';
  commitSha?: string;
  changeId?: string;
  startedAt?: Date;
  finishedAt?: Date;
  committedAt?: Date;
  url?: string;
  reportedBy: string;
}

/**
 * Records a deployment. With a change: it must be approved (409 otherwise) and of
 * the same service; success in the change's environment marks it deployed, and a
 * failure in production marks it failed.
 */
export async function recordDeployment(deps: ChangeDeps, report: DeploymentReport): Promise<{ deployment: DeploymentRow; change?: ChangeRow }> {
  if (!findService(deps.catalog, report.service)) {
    throw invalid('validation_failed', `service: there is no service "${report.service}"`, [{ field: 'service', message: `unknown service "${report.service}"` }]);
  }
  const result = await deps.db.transaction(async (tx) => {
    const now = deps.clock.now();
    let change: ChangeRow | undefined;
    if (report.changeId) {
      change = await store.lockChange(tx, report.changeId);
      if (!change) throw notFound('change_not_found', `There is no change ${report.changeId}.`);
      const key = changeKey(change.number);
      if (change.service !== report.service) {
        throw conflict('service_mismatch', `${key} is a change to ${change.service}, not ${report.service}.`);
      }
      const refusal = deployRefusal(change.status);
      if (refusal) throw conflict('change_not_approved', `${key} ${refusal}, so it cannot be deployed.`);
    }
    const deployment = await store.insertDeployment(tx, {
      service: report.service,
      environment: report.environment,
      status: report.status,
      commitSha: report.commitSha ?? change?.commitSha ?? null,
      changeId: change?.id ?? null,
      startedAt: report.startedAt ?? null,
      finishedAt: report.finishedAt ?? now,
      committedAt: report.committedAt ?? null,
      url: report.url ?? null,
      reportedBy: report.reportedBy,
      createdAt: now,
    });
    if (!change) return { deployment };
    const messages: OutboxMessage[] = [];
    const sameEnvironment = change.environment === report.environment;
    if (report.status === 'success' && sameEnvironment && change.status === 'approved') {
      change = await store.updateChange(tx, change.id, { status: 'deployed', deployedAt: deployment.finishedAt, updatedAt: now });
      await store.appendAudit(tx, { changeId: change.id, at: now, actor: report.reportedBy, action: 'deployed', details: { deployment: deployment.id } });
    } else if (report.status === 'failure' && isProduction(report.environment)) {
      change = await markFailed(tx, change, `the ${report.environment} deployment failed`, report.reportedBy, now);
    }
    messages.push(...(await threadNotice(tx, deps.catalog, change, deploymentNotice(change, deployment), `deployment-${deployment.id}`)));
    messages.push(...(await refreshMessages(tx, deps.catalog, change)));
    if (change.status === 'deployed' || change.status === 'failed') messages.push(...requesterMessages(change));
    await enqueue(tx, deps.clock, messages);
    return { deployment, change };
  });
  deps.outbox.kick();
  if (result.change) deps.events.emit({ kind: 'change', change: result.change });
  return result;
}

async function markFailed(tx: Database, change: ChangeRow, reason: string, actor: string, now: Date): Promise<ChangeRow> {
  if (change.status === 'failed') return change;
  const failed = await store.updateChange(tx, change.id, { status: 'failed', failedAt: now, failureReason: reason, updatedAt: now });
  await store.appendAudit(tx, { changeId: change.id, at: now, actor, action: 'failed', details: { reason } });
  return failed;
}

/**
 * An incident was caused by this change: it counts as failed. Runs inside the
 * caller's (the incident's) transaction; the change's messages follow.
 */
export async function attributeIncident(
  tx: Database,
  context: { catalog: Catalog; clock: Clock },
  change: ChangeRow,
  incidentKey: string,
  actor: string,
): Promise<ChangeRow> {
  const refusal = change.status === 'pending' || change.status === 'rejected' || change.status === 'cancelled';
  if (refusal) {
    throw conflict('change_never_deployed', `${changeKey(change.number)} is ${change.status} and was never deployed, so it cannot have caused ${incidentKey}.`);
  }
  const now = context.clock.now();
  const failed = await markFailed(tx, change, `caused ${incidentKey}`, actor, now);
  const notice = { text: `💥 ${changeKey(change.number)} caused ${incidentKey} and now counts as failed.` };
  await enqueue(tx, context.clock, [
    ...(await threadNotice(tx, context.catalog, failed, notice, `incident-${incidentKey}`)),
    ...(await refreshMessages(tx, context.catalog, failed)),
    ...requesterMessages(failed, notice, `incident-${incidentKey}`),
  ]);
  return failed;
}

/** Finds a change by its id or its key (`CHG-42`). */
export function findChangeByReference(db: Database, reference: string): Promise<ChangeRow | undefined> {
  return findByReference(reference, 'CHG', {
    byId: (id) => store.findChangeById(db, id),
    byNumber: (number) => store.findChangeByNumber(db, number),
  });
}
