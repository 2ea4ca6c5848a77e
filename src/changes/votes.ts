import { conflict, invalid, notFound } from '../errors';
import type { ChangeRow } from '../db/schema';
import { unitOfWork } from '../unit-of-work';
import { type ApprovalProgress, voteProgressNotice } from './blocks';
import type { ChangeDeps } from './deps';
import { requesterMessages } from './messaging';
import { cancelRefusal, changeKey, mayCancel, mayReview, noLongerPending, reviewRefusal, voteRefusal } from './model';
import * as store from './store';
import { decide, progressOf, refreshMessages } from './transitions';
import type { OutboxMessage } from '../slack/outbox';
import { recheckConflicts, refreshNeighbours } from './conflicts';

/** Votes, rejections, cancellations and the sign-off of an emergency change's review. */

type VoteOutcome = { change: ChangeRow; progress: ApprovalProgress; decided: boolean };

/**
 * One person's vote. Only the service's approvers vote, never on their own change,
 * once each (the primary key says so even under retries and races); the row lock
 * makes concurrent votes take turns, so exactly one of them decides.
 */
export async function recordVote(
  deps: ChangeDeps,
  input: { changeId: string; voter: string; choice: 'approve' | 'reject'; reason?: string },
): Promise<VoteOutcome> {
  return unitOfWork(deps, async ({ tx, send, emit }) => {
    const change = await store.lockChange(tx, input.changeId);
    if (!change) throw notFound('change_not_found', 'That change no longer exists.');
    const key = changeKey(change.number);
    if (change.status !== 'pending') throw noLongerPending(change);
    const refusal = voteRefusal(deps.catalog, change, input.voter);
    if (refusal) throw refusal;
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
    const neighbours: OutboxMessage[] = [];
    if (decided) {
      current = await recheckConflicts(tx, deps, current);
      neighbours.push(...(await refreshNeighbours(tx, deps, current)));
    }
    const messages = [...(await refreshMessages(tx, deps.catalog, current)), ...neighbours];
    if (decided) {
      messages.push(...requesterMessages(current));
      await deps.decisions.announce(tx, current.id);
    } else {
      messages.push(...requesterMessages(current, voteProgressNotice(current, input.voter, progress), `vote-${input.voter}`));
    }
    await send(messages);
    emit({ kind: 'change', change: current });
    return { change: current, progress, decided };
  });
}

/** The requester, or one of the service's approvers, withdraws a change that has not been deployed. */
export async function cancelChange(deps: ChangeDeps, changeId: string, actor: string, reason = 'withdrawn'): Promise<ChangeRow> {
  return closeChange(deps, changeId, actor, (change) => {
    if (!mayCancel(deps.catalog, change, actor)) throw cancelRefusal(change);
    if (change.status !== 'pending' && change.status !== 'approved') {
      throw conflict('change_closed', `${changeKey(change.number)} is ${change.status}; only pending or approved changes can be cancelled.`);
    }
    return reason;
  });
}

/** Cancels a change once `check` (which throws to refuse) has given the reason. */
export async function closeChange(deps: ChangeDeps, changeId: string, actor: string, check: (change: ChangeRow) => string): Promise<ChangeRow> {
  return unitOfWork(deps, async ({ tx, send, emit }) => {
    const change = await store.lockChange(tx, changeId);
    if (!change) throw notFound('change_not_found', 'That change does not exist.');
    const reason = check(change);
    const cancelled = await recheckConflicts(tx, deps, await decide(tx, change, { status: 'cancelled', by: [actor], reason, at: deps.clock.now() }));
    await send([...(await refreshMessages(tx, deps.catalog, cancelled)), ...requesterMessages(cancelled), ...(await refreshNeighbours(tx, deps, cancelled))]);
    await deps.decisions.announce(tx, cancelled.id);
    emit({ kind: 'change', change: cancelled });
    return cancelled;
  });
}

/** An approver marks an emergency change's retrospective review done. */
export async function markReviewed(deps: ChangeDeps, changeId: string, actor: string): Promise<ChangeRow> {
  return unitOfWork(deps, async ({ tx }) => {
    const change = await store.lockChange(tx, changeId);
    if (!change) throw notFound('change_not_found', 'That change does not exist.');
    if (!mayReview(deps.catalog, change, actor)) throw reviewRefusal(change);
    if (!change.reviewRequired) throw conflict('no_review_pending', `${changeKey(change.number)} has no review pending.`);
    const now = deps.clock.now();
    const reviewed = await store.updateChange(tx, change.id, { reviewRequired: false, updatedAt: now });
    await store.appendAudit(tx, { changeId: change.id, at: now, actor, action: 'reviewed', details: {} });
    return reviewed;
  });
}

