import { z } from 'zod';
import { approversOf, type Catalog, findService, type ServiceConfig } from '../catalog';
import type { ChangeRow, ChangeVoteRow } from '../db/schema';
import type { Message } from '../slack/blocks';
import type { OutboxMessage } from '../slack/outbox';
import { outboxTopic } from '../slack/outbox-topic';
import { isSlackUserId } from '../slack/text';
import { type ApprovalProgress, changeMessage, emergencyAnnouncement, requesterNotice } from './blocks';
import { changeKey, describeApprovers, mayVote } from './model';

/** A change, its votes and its recorded messages → the Slack messages to queue. Pure: the use cases read, this renders. */

/** Every change message carries the change's id, stored as the plain string it always was. */
const changeId = z.uuid();

export const changeTopics = {
  /** Messages with the vote buttons; each is recorded so it can be updated in place. */
  approvalRequest: outboxTopic('change.approval_request', changeId),
  notice: outboxTopic('change.notice', changeId),
};

/** Where a change's message was posted, as recorded once Slack took it. */
interface PostedMessage {
  channel: string;
  ts: string;
  kind: string;
}

export function approvalProgress(service: ServiceConfig | undefined, votes: Pick<ChangeVoteRow, 'voter' | 'choice'>[]): ApprovalProgress {
  return {
    quorum: service?.approvers.quorum ?? 1,
    approvedBy: votes.filter((vote) => vote.choice === 'approve').map((vote) => vote.voter),
    approvers: service ? describeApprovers(service) : 'nobody',
  };
}

/** The approval request, or an emergency's announcement: to the approvals channel, else to each approver. */
export function announcementsOf(change: ChangeRow, catalog: Catalog, service: ServiceConfig): OutboxMessage[] {
  if (change.status !== 'pending' && change.type !== 'emergency') return [];
  const shown = changeMessage(change, approvalProgress(service, []));
  const body = change.type === 'emergency' ? { ...shown, text: emergencyAnnouncement(change).text } : shown;
  const targets = service.channels.approvals
    ? [service.channels.approvals]
    : [...approversOf(catalog, service)].filter((user) => mayVote(catalog, change, user));
  return targets.map((channel) =>
    changeTopics.approvalRequest.message(change.id, {
      method: 'chat.postMessage',
      args: { channel, ...body, unfurl_links: false },
      dedupKey: `change:${change.id}:request:${channel}`,
    }),
  );
}

/** A DM to the requester, when they are a Slack user; `key` tells one notice of a change from another. */
export function requesterMessages(change: ChangeRow, message: Message = requesterNotice(change), key: string = change.status): OutboxMessage[] {
  if (!isSlackUserId(change.requestedBy)) return [];
  return [
    changeTopics.notice.message(change.id, {
      method: 'chat.postMessage',
      args: { channel: change.requestedBy, ...message },
      dedupKey: `change:${change.id}:requester:${key}`,
    }),
  ];
}

/** Re-renders every recorded approval message of a change, so buttons vanish once it is decided. */
export function refreshedMessages(change: ChangeRow, progress: ApprovalProgress, posted: PostedMessage[]): OutboxMessage[] {
  return posted
    .filter((message) => message.kind === 'approval')
    .map((message) =>
      changeTopics.notice.message(change.id, {
        method: 'chat.update',
        args: { channel: message.channel, ts: message.ts, ...changeMessage(change, progress) },
      }),
    );
}

/** A line in the thread of the approval request in the approvals channel, when there is one. */
export function threadNoticeOf(catalog: Catalog, change: ChangeRow, posted: PostedMessage[], message: Message, key: string): OutboxMessage[] {
  const channel = findService(catalog, change.service)?.channels.approvals;
  const recorded = channel ? posted.find((candidate) => candidate.channel === channel) : undefined;
  if (!channel || !recorded) return [];
  return [
    changeTopics.notice.message(change.id, {
      method: 'chat.postMessage',
      args: { channel, thread_ts: recorded.ts, ...message },
      dedupKey: `change:${change.id}:${key}`,
    }),
  ];
}

export function reminderMessage(change: ChangeRow, waitedHours: number, waitingOn: string[]): Message {
  return { text: `⏰ ${changeKey(change.number)} has waited ${waitedHours}h for approval. ${waitingOn.map((user) => `<@${user}>`).join(' ')}`.trim() };
}

/** A reminder goes in the approval request's thread, or else to each approver it waits on. */
export function reminderMessages(catalog: Catalog, change: ChangeRow, posted: PostedMessage[], message: Message, waitingOn: string[], key: string): OutboxMessage[] {
  const inThread = threadNoticeOf(catalog, change, posted, message, key);
  if (inThread.length > 0) return inThread;
  return waitingOn.map((user) =>
    changeTopics.notice.message(change.id, { method: 'chat.postMessage', args: { channel: user, ...message }, dedupKey: `change:${change.id}:${key}:${user}` }),
  );
}

export const incidentNotice = (change: ChangeRow, incident: string): Message => ({
  text: `💥 ${changeKey(change.number)} caused ${incident} and now counts as failed.`,
});
