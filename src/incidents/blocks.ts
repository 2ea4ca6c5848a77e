import type { IncidentRow, ProblemRow } from '../db/schema';
import { actions, type Block, button, context, fields, header, type Message, section } from '../slack/blocks';
import { actorMention, slackDate, toMrkdwn, toPlainText } from '../slack/text';
import { formatDuration } from '../time';
import { followUpStateLabels, type IncidentStatus, incidentKey, incidentStatuses, isResolved, problemKey, severityLabel, timeToRestoreSeconds } from './model';

/**
 * The pinned summary, the replies to whoever acted, and the IDs every incident view
 * shares. Modals are in modal-blocks.ts, the posts a change causes in notice-blocks.ts.
 * Views render; listeners decide.
 */

export const incidentActionIds = {
  status: 'incident.status',
  severity: 'incident.severity',
  commander: 'incident.commander',
  update: 'incident.update',
  resolve: 'incident.resolve',
  followUp: 'incident.follow_up',
  retrySetup: 'incident.retry_setup',
  linkCause: 'incident.link_cause',
  followUpDone: 'incident.follow_up_done',
  followUpWontDo: 'incident.follow_up_wont_do',
} as const;

export const incidentViewIds = {
  declare: 'incident.declare',
  status: 'incident.status',
  severity: 'incident.severity',
  commander: 'incident.commander',
  update: 'incident.update',
  resolve: 'incident.resolve',
  followUp: 'incident.follow_up',
  linkCause: 'incident.link_cause',
} as const;

/** Block IDs of modal inputs, shared by the view and the submission handler. */
export const fieldIds = {
  title: 'title',
  severity: 'severity',
  service: 'service',
  description: 'description',
  private: 'private',
  status: 'status',
  note: 'note',
  commander: 'commander',
  text: 'text',
  summary: 'summary',
  change: 'change',
  owner: 'owner',
} as const;

export const severityMarks: Record<number, string> = { 1: '🔴', 2: '🟠', 3: '🟡', 4: '🔵' };
export const statusLabels: Record<IncidentStatus, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

const name = (incident: IncidentRow) => `${incidentKey(incident.number)} · ${toPlainText(incident.title)}`;
export const reference = (incident: IncidentRow) =>
  `*${incidentKey(incident.number)} ${toMrkdwn(toPlainText(incident.title))}*${incident.channelId ? ` <#${incident.channelId}>` : ''}`;

/** The pinned summary at the top of the swarm channel, re-rendered after every change. */
export function summaryMessage(incident: IncidentRow, roles: ReadonlyArray<{ role: string; userId: string | null }> = []): Message {
  const value = incident.id;
  const resolved = isResolved(incident);
  const ttr = timeToRestoreSeconds(incident);
  const blocks: Block[] = [
    header(`${severityMarks[incident.severity] ?? ''} ${name(incident)}`.trim()),
    fields(
      `*Severity*\n${severityLabel(incident.severity)}`,
      `*Status*\n${statusLabels[incident.status]}`,
      `*Commander*\n${incident.commander ? `<@${incident.commander}>` : '_unassigned_'}`,
      `*Service*\n${incident.service ?? '_none_'}`,
      `*Declared*\n${slackDate(incident.declaredAt)} by ${actorMention(incident.declaredBy)}`,
      ...(ttr !== null ? [`*Time to restore*\n${formatDuration(ttr)}`] : []),
    ),
  ];
  const otherRoles = roles.filter(({ role }) => role !== 'commander');
  if (otherRoles.length > 0) blocks.push(section(rolesLine(otherRoles)));
  if (incident.description) blocks.push(section(`*Description*\n${toMrkdwn(incident.description)}`));
  if (resolved && incident.resolution) blocks.push(section(`*Resolution*\n${toMrkdwn(incident.resolution)}`));
  if (resolved) {
    blocks.push(
      context(`Resolved ${slackDate(incident.resolvedAt ?? incident.updatedAt)}. Turn the fix into backlog work with a follow-up.`),
      actions('incident_summary', [button(incidentActionIds.followUp, 'Create follow-up', value, 'primary')]),
    );
  } else {
    blocks.push(
      context('Every change is kept in the timeline. In this channel you can also type `/incident help`.'),
      actions('incident_summary', [
        button(incidentActionIds.status, 'Update status', value),
        button(incidentActionIds.severity, 'Change severity', value),
        button(incidentActionIds.commander, 'Assign commander', value),
        button(incidentActionIds.update, 'Post update', value),
        button(incidentActionIds.linkCause, 'Link cause', value),
        button(incidentActionIds.resolve, 'Resolve', value, 'danger'),
      ]),
    );
  }
  return {
    text: `${name(incident)} (${severityLabel(incident.severity)}, ${statusLabels[incident.status]})`,
    blocks,
  };
}

/** The roles line of the pinned summary: every role of the catalog, held or not. */
export function rolesLine(roles: ReadonlyArray<{ role: string; userId: string | null }>): string {
  return `*Roles*\n${roles.map(({ role, userId }) => `${role}: ${userId ? `<@${userId}>` : '_unassigned_'}`).join(' · ')}`;
}

export interface SetupReport {
  channelCreated: boolean;
  /** Steps Slack refused for good (a missing scope, someone who cannot be invited). */
  problems: string[];
  /** Slack was unavailable: the rest of the set-up is queued and resumes on its own. */
  pending: boolean;
}

/** The ephemeral answer to whoever declared; `notes` say what the declaration changed (a shortened title). */
export function declaredReply(incident: IncidentRow, report: SetupReport, notes: string[] = []): Message {
  const lines = [
    incident.channelId
      ? `${severityMarks[incident.severity] ?? ''} Declared *${incidentKey(incident.number)}*: join <#${incident.channelId}> to swarm.`
      : report.pending
        ? `Recorded *${incidentKey(incident.number)}*. Slack is not answering right now; Tandem keeps trying and will invite you to its channel.`
        : `Recorded *${incidentKey(incident.number)}*, but its channel could not be created.`,
    ...(incident.channelId && report.pending ? ['Slack is slow right now; Tandem finishes setting up the channel on its own.'] : []),
    ...notes.map((note) => `_${note}_`),
    ...report.problems.map((problem) => `• ${problem}`),
  ];
  const blocks: Block[] = [section(lines.join('\n'))];
  if (!incident.channelId || report.problems.length > 0) {
    blocks.push(actions('incident_setup', [button(incidentActionIds.retrySetup, 'Try again', incident.id)]));
  }
  return { text: lines.join('\n'), blocks };
}

/** Where a new follow-up went: the sprint, or why it is in none yet. */
export type FollowUpPlacementView =
  | { kind: 'sprint'; sprint: string; placement: 'current' | 'next' }
  | { kind: 'no_sprint'; service: string }
  | { kind: 'no_service' };

export function problemCreatedReply(problem: ProblemRow, incident: IncidentRow, placement?: FollowUpPlacementView): Message {
  const owner = problem.owner ? `, owned by <@${problem.owner}>` : '';
  const where =
    placement?.kind === 'sprint'
      ? ` It is an internal feature of ${placement.placement === 'current' ? 'the current' : 'the next'} sprint, ${toMrkdwn(placement.sprint)}.`
      : placement?.kind === 'no_sprint'
        ? ` ${placement.service} has no current or coming sprint, so it joins the next sprint ${placement.service} starts.`
        : placement?.kind === 'no_service'
          ? ` ${incidentKey(incident.number)} has no service, so the follow-up is in no sprint.`
          : '';
  return { text: `📝 Created *${problemKey(problem.number)}* for ${incidentKey(incident.number)}${owner}: ${toMrkdwn(problem.title)}.${where}` };
}

/** Follow-ups listed at most; Block Kit takes 50 blocks and the rest are counted. */
const maxListedFollowUps = 20;

/** `/incident followups`: each follow-up with its owner and state; open ones have **Done** and **Won't do**. */
export function followUpsList(incident: IncidentRow, problems: ProblemRow[]): Message {
  if (problems.length === 0) {
    return { text: `${incidentKey(incident.number)} has no follow-ups yet. Add one with \`/incident followup <title> [@owner]\`.` };
  }
  const line = (problem: ProblemRow) =>
    `*${problemKey(problem.number)}* ${toMrkdwn(problem.title)} · ${problem.owner ? `<@${problem.owner}>` : '_no owner_'} · ${followUpStateLabels[problem.state]}`;
  const shown = problems.slice(0, maxListedFollowUps);
  const blocks: Block[] = [section(`*Follow-ups of ${incidentKey(incident.number)}*`)];
  for (const problem of shown) {
    blocks.push(section(line(problem)));
    if (problem.state === 'open') {
      blocks.push(
        actions(`follow_up_${problem.number}`, [
          button(incidentActionIds.followUpDone, 'Done', problem.id, 'primary'),
          button(incidentActionIds.followUpWontDo, "Won't do", problem.id),
        ]),
      );
    }
  }
  if (problems.length > shown.length) blocks.push(context(`and ${problems.length - shown.length} more`));
  const more = problems.length > shown.length ? [`and ${problems.length - shown.length} more`] : [];
  return { text: [`Follow-ups of ${incidentKey(incident.number)}:`, ...shown.map(line), ...more].join('\n'), blocks };
}

/** The help of `/incident`, made once. */
export const helpText = [
  '*Incidents*',
  '• `/incident <title> [service=<name>] [sev=<1-4>] [--private] [@people]`: declare an incident and open its channel',
  '• `/incident`: declare with a form',
  '*Inside an incident channel*',
  '• `/incident sev <1-4>`: change severity',
  `• \`/incident status <${incidentStatuses.join('|')}>\`: change status`,
  '• `/incident commander @person` (or `me`): assign the incident commander',
  '• `/incident role <role> @person` (or `me`): give someone a role, such as comms or scribe',
  '• `/incident update <text>`: post an update to stakeholders',
  '• `/incident resolve [summary]`: resolve and record time to restore',
  '• `/incident link CHG-42`: record the change that caused it (the change counts as failed)',
  '• `/incident followup <title> [@owner]`: record a follow-up (PRB-n), planned in the service\'s sprint',
  '• `/incident followups`: list the follow-ups and mark them done or won\'t do',
  '• `/incident timeline [page]`: the timeline, newest 20 entries first (only you see it); pin a message or react with the timeline emoji to add it',
  '• `/incident catchup`: where the incident stands, for you alone: status, roles, last update, latest entries, cause, follow-ups',
].join('\n');
