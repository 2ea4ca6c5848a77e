import type { Catalog } from '../catalog';
import { serviceNames } from '../catalog';
import type { ChangeRow } from '../db/schema';
import {
  actions,
  type Block,
  button,
  context,
  dateTimeInput,
  fields,
  header,
  type Message,
  modal,
  type ModalView,
  option,
  section,
  selectInput,
  textInput,
} from '../slack/blocks';
import { actorMention, slackDate, toMrkdwn, toPlainText, truncate } from '../slack/text';
import { type ChangeType, changeKey, changeRisks, changeTypes, type ListedChange, maxTitleLength } from './model';

/** Every Block Kit message and modal of changes. Views render; listeners decide. */

export const changeActionIds = {
  approve: 'change.approve',
  reject: 'change.reject',
} as const;

export const changeViewIds = {
  request: 'change.request',
  reject: 'change.reject',
} as const;

export const changeFieldIds = {
  service: 'service',
  title: 'title',
  type: 'type',
  risk: 'risk',
  environment: 'environment',
  description: 'description',
  rollbackPlan: 'rollback_plan',
  plannedStart: 'planned_start',
  plannedEnd: 'planned_end',
  reason: 'reason',
} as const;

const statusLabels: Record<ChangeRow['status'], string> = {
  pending: '⏳ Waiting for approval',
  approved: '✅ Approved',
  rejected: '⛔ Rejected',
  cancelled: '🚫 Cancelled',
  deployed: '🚀 Deployed',
  failed: '💥 Failed',
};

const typeLabels: Record<ChangeType, string> = { standard: 'Standard', normal: 'Normal', emergency: 'Emergency' };

const name = (change: ChangeRow) => `${changeKey(change.number)} · ${toPlainText(change.title)}`;
export const changeReference = (change: Pick<ChangeRow, 'number' | 'title'>) => `*${changeKey(change.number)}* ${toMrkdwn(toPlainText(change.title))}`;

export interface ApprovalProgress {
  quorum: number;
  approvedBy: string[];
  /** Who may vote, for the message (groups by name, or people). */
  approvers: string;
}

/** The approval request, and after the decision the same message without buttons. */
export function changeMessage(change: ChangeRow, progress: ApprovalProgress): Message {
  const blocks: Block[] = [
    header(name(change)),
    fields(
      `*Service*\n${change.service}`,
      `*Environment*\n${change.environment}`,
      `*Type*\n${typeLabels[change.type]}`,
      `*Risk*\n${change.risk}`,
      `*Requested by*\n${actorMention(change.requestedBy)} ${slackDate(change.requestedAt)}`,
      `*Status*\n${statusLabels[change.status]}`,
      ...(change.ref || change.commitSha ? [`*Ref*\n\`${change.ref ?? ''}${change.commitSha ? ` ${change.commitSha.slice(0, 12)}` : ''}\``] : []),
      ...(change.plannedStart ? [`*Planned*\n${slackDate(change.plannedStart)}${change.plannedEnd ? ` → ${slackDate(change.plannedEnd)}` : ''}`] : []),
    ),
  ];
  if (change.description) blocks.push(section(`*Description*\n${toMrkdwn(change.description)}`));
  if (change.rollbackPlan) blocks.push(section(`*Rollback plan*\n${toMrkdwn(change.rollbackPlan)}`));
  if (change.justification) blocks.push(section(`*Emergency justification*\n${toMrkdwn(change.justification)}`));
  if (change.conflicts.length > 0) blocks.push(section(conflictsText(change)));
  if (change.policy) blocks.push(context(`🧮 ${change.policy.summary}`));

  if (change.status === 'pending') {
    const tally = progress.approvedBy.length > 0 ? ` Approved so far by ${progress.approvedBy.map((user) => `<@${user}>`).join(', ')}.` : '';
    blocks.push(
      context(`Needs ${progress.quorum} approval${progress.quorum === 1 ? '' : 's'} from ${progress.approvers}; the requester cannot approve.${tally}`),
      actions('change_vote', [
        button(changeActionIds.approve, 'Approve', change.id, 'primary'),
        button(changeActionIds.reject, 'Reject', change.id, 'danger'),
      ]),
    );
  } else {
    blocks.push(section(decisionLine(change)));
  }
  return { text: `${name(change)}: ${statusLabels[change.status]}`, blocks };
}

/** A change's conflicts as one section's text, within Slack's 3,000 characters. */
export function conflictsText(change: ChangeRow): string {
  return truncate(`⚠️ *Conflicts*\n${change.conflicts.map((conflict) => `• ${toMrkdwn(conflict.message)}`).join('\n')}`, 3000);
}

/** Who decided, when and why, in one line. */
export function decisionLine(change: ChangeRow): string {
  const when = change.decidedAt ? ` ${slackDate(change.decidedAt)}` : '';
  const by = decidersText(change);
  const why = change.decisionReason ? `: ${toMrkdwn(change.decisionReason)}` : '';
  switch (change.status) {
    case 'approved':
    case 'deployed':
    case 'failed': {
      const approved = `✅ Approved by ${by}${when}${why}`;
      if (change.status === 'deployed') return `${approved}\n🚀 Deployed ${slackDate(change.deployedAt ?? change.updatedAt)}`;
      if (change.status === 'failed') return `${approved}\n💥 Failed ${slackDate(change.failedAt ?? change.updatedAt)}: ${toMrkdwn(change.failureReason ?? '')}`;
      return approved;
    }
    case 'rejected':
      return `⛔ Rejected by ${by}${when}${why}`;
    case 'cancelled':
      return `🚫 Cancelled by ${by}${when}${why}`;
    case 'pending':
      return statusLabels.pending;
  }
}

function decidersText(change: ChangeRow): string {
  const deciders = change.decidedBy ?? [];
  if (deciders.length === 0) return 'nobody';
  return deciders.map((decider) => (decider === 'policy' ? 'policy' : actorMention(decider))).join(', ');
}

/** What the requester hears at each step. */
export function requesterNotice(change: ChangeRow): Message {
  const subject = changeReference(change);
  switch (change.status) {
    case 'pending':
      return { text: `${subject} is waiting for approval.${change.policy ? ` ${change.policy.summary}` : ''}` };
    case 'approved':
      return { text: `${subject} is approved. ${decisionLine(change)}` };
    case 'deployed':
      return { text: `🚀 ${subject} is deployed to ${change.environment}.` };
    default:
      return { text: `${subject}: ${decisionLine(change)}` };
  }
}

/** Tells the requester an approver has voted, while more approvals are needed. */
export function voteProgressNotice(change: ChangeRow, voter: string, progress: ApprovalProgress): Message {
  return { text: `<@${voter}> approved ${changeReference(change)} (${progress.approvedBy.length} of ${progress.quorum}).` };
}

export function voteCountedReply(change: ChangeRow, progress: ApprovalProgress): string {
  const remaining = progress.quorum - progress.approvedBy.length;
  return `You approved ${changeKey(change.number)}. ${remaining} more approval${remaining === 1 ? '' : 's'} needed.`;
}

export function emergencyAnnouncement(change: ChangeRow): Message {
  return {
    text: `🚨 Emergency change ${changeReference(change)} (${change.service} → ${change.environment}) by ${actorMention(change.requestedBy)} passed without approval and is flagged for review. Justification: ${toMrkdwn(change.justification ?? '')}`,
  };
}

export function deploymentNotice(change: ChangeRow, deployment: { status: 'success' | 'failure'; environment: string; url: string | null }): Message {
  const link = deployment.url ? ` <${deployment.url}|details>` : '';
  return deployment.status === 'success'
    ? { text: `🚀 ${changeReference(change)} deployed to ${deployment.environment}.${link}` }
    : { text: `💥 ${changeReference(change)} failed to deploy to ${deployment.environment}.${link}` };
}

/** `/change list`: open changes, then emergency changes whose review is not signed off. */
export function changeList(listed: { open: ListedChange[]; awaitingReview: ListedChange[] }, service?: string): string {
  const { open, awaitingReview } = listed;
  const reviews = awaitingReview.length
    ? `\n*Emergency changes awaiting review* (sign off with \`/change reviewed CHG-n\`)\n${awaitingReview.map((change) => `• ${changeReference(change)} · ${change.service}`).join('\n')}`
    : '';
  if (open.length === 0) {
    return `${service ? `No open changes of ${service}. Request one with \`/change ${service} <title>\`.` : 'No open changes. Request one with `/change <service> <title>`.'}${reviews}`;
  }
  const lines = open.map(
    (change) =>
      `• ${changeReference(change)} · ${change.service} → ${change.environment} · ${statusLabels[change.status]} · ${actorMention(change.requestedBy)}${
        change.plannedStart && change.plannedEnd ? ` · 🗓 ${slackDate(change.plannedStart)} → ${slackDate(change.plannedEnd)}` : ''
      }${change.conflicts.length > 0 ? `\n    ⚠️ ${toMrkdwn(truncate(change.conflicts.map((conflict) => conflict.message).join('; '), 300))}` : ''}`,
  );
  return [service ? `*Open changes of ${service}*` : '*Open changes*', ...lines].join('\n') + reviews;
}

export function requestModal(catalog: Catalog, defaults: { service?: string; title?: string; type?: ChangeType } = {}): ModalView {
  const services = serviceNames(catalog).map((service) => option(service, service));
  return modal(
    changeViewIds.request,
    'Request a change',
    [
      ...(services.length > 0
        ? [selectInput(changeFieldIds.service, 'Service', services, { initial: defaults.service })]
        : [section('The catalog lists no services yet, so there is nothing to change. Add services to tandem.yaml.')]),
      textInput(changeFieldIds.title, 'Title', { maxLength: maxTitleLength, initial: defaults.title }),
      selectInput(
        changeFieldIds.type,
        'Type',
        changeTypes.map((type) => option(typeDescriptions[type], type)),
        { initial: defaults.type ?? 'normal' },
      ),
      selectInput(changeFieldIds.risk, 'Risk', changeRisks.map((risk) => option(risk, risk)), {
        optional: true,
        hint: 'Leave empty: standard changes are low, normal medium, emergency high.',
      }),
      textInput(changeFieldIds.environment, 'Environment', { initial: 'production', maxLength: 64 }),
      textInput(changeFieldIds.description, 'Description', {
        multiline: true,
        optional: true,
        maxLength: 3000,
        hint: 'For an emergency change, say why it cannot wait: that is its justification.',
      }),
      textInput(changeFieldIds.rollbackPlan, 'Rollback plan', { multiline: true, optional: true, maxLength: 3000 }),
      dateTimeInput(changeFieldIds.plannedStart, 'Planned start', { optional: true }),
      dateTimeInput(changeFieldIds.plannedEnd, 'Planned end', { optional: true }),
    ],
    'Request',
  );
}

const typeDescriptions: Record<ChangeType, string> = {
  standard: 'Standard · pre-approved by policy',
  normal: 'Normal · needs approvers',
  emergency: 'Emergency · passes now, reviewed later',
};

export function rejectModal(change: ChangeRow): ModalView {
  return modal(
    changeViewIds.reject,
    'Reject change',
    [
      section(`${changeReference(change)} (${change.service} → ${change.environment})`),
      textInput(changeFieldIds.reason, 'Why?', { multiline: true, maxLength: 3000, hint: 'The requester sees this.' }),
    ],
    'Reject',
    { changeId: change.id },
  );
}

/** The help of `/change`, made once. */
export const helpText = [
  '*Changes*',
  '• `/change <service> <title> [type=standard|normal|emergency] [risk=low|medium|high] [env=<environment>] [ref=<ref>]`: request a change',
  '• `/change` or `/change <service>`: request with a form (description, rollback plan, planned window)',
  '• `/change … window=2026-12-03T14:00/2026-12-03T16:00`: plan it for a window (your Slack time zone unless the times have an offset)',
  '• `/change list [service]`: open changes and their state, of every service or of one',
  '• `/change calendar [service]`: planned changes and freeze windows of the next 14 days',
  '• `/change cancel CHG-42`: cancel a change you requested',
  '• `/change reviewed CHG-42`: sign off the review of an emergency change (its service’s approvers)',
  'Normal changes are approved with the buttons in the service’s approvals channel; standard changes by policy; emergency changes pass at once and are reviewed later.',
].join('\n');
