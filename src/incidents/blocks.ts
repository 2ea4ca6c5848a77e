import type { Catalog } from '../catalog';
import { serviceNames } from '../catalog';
import type { IncidentRow, ProblemRow } from '../db/schema';
import {
  actions,
  type Block,
  button,
  checkboxInput,
  context,
  fields,
  header,
  type Message,
  modal,
  type ModalView,
  option,
  section,
  selectInput,
  textInput,
  userInput,
} from '../slack/blocks';
import { actorMention, slackDate, toMrkdwn, toPlainText } from '../slack/text';
import { formatDuration } from '../time';
import {
  type IncidentChange,
  type IncidentStatus,
  incidentKey,
  incidentStatuses,
  maxTitleLength,
  problemKey,
  type Severity,
  severities,
  severityLabel,
  timeToRestoreSeconds,
} from './model';

/** Every Block Kit message and modal of incidents. Views render; listeners decide. */

export const incidentActionIds = {
  status: 'incident.status',
  severity: 'incident.severity',
  commander: 'incident.commander',
  update: 'incident.update',
  resolve: 'incident.resolve',
  followUp: 'incident.follow_up',
  retrySetup: 'incident.retry_setup',
  linkCause: 'incident.link_cause',
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
} as const;

const severityMarks: Record<number, string> = { 1: '🔴', 2: '🟠', 3: '🟡', 4: '🔵' };
const statusLabels: Record<IncidentStatus, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

const name = (incident: IncidentRow) => `${incidentKey(incident.number)} · ${toPlainText(incident.title)}`;
const reference = (incident: IncidentRow) =>
  `*${incidentKey(incident.number)} ${toMrkdwn(toPlainText(incident.title))}*${incident.channelId ? ` <#${incident.channelId}>` : ''}`;

/** The pinned summary at the top of the swarm channel, re-rendered after every change. */
export function summaryMessage(incident: IncidentRow): Message {
  const value = incident.id;
  const resolved = incident.status === 'resolved';
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

/** The line posted in the swarm channel for a change. */
export function channelNote(incident: IncidentRow, change: IncidentChange, actor: string): Message {
  const who = actorMention(actor);
  const key = `*${incidentKey(incident.number)}*`;
  switch (change.kind) {
    case 'declared':
      return { text: `${who} declared ${key}. The summary above is kept current.` };
    case 'severity':
      return { text: `${change.to < change.from ? '🔺' : '🔻'} ${key}: ${who} changed severity ${severityLabel(change.from)} → *${severityLabel(change.to)}*` };
    case 'status':
      return {
        text: `🔁 ${key}: ${who} changed status to *${statusLabels[change.to]}*${change.note ? `: ${toMrkdwn(change.note)}` : ''}`,
      };
    case 'commander':
      return { text: `🧭 ${key}: ${who} made <@${change.to}> incident commander` };
    case 'update':
      return { text: `📣 ${key} update from ${who}\n${toMrkdwn(change.text)}` };
    case 'resolved':
      return resolutionMessage(incident, change, who);
    case 'follow_up':
      return { text: `📝 ${key}: ${who} opened follow-up *${problemKey(change.problemNumber)}*: ${toMrkdwn(change.title)}` };
    case 'caused_by':
      return { text: `🔗 ${key}: ${who} linked the cause, *CHG-${change.changeNumber}* ${toMrkdwn(change.changeTitle)}. It now counts as a failed change.` };
  }
}

function resolutionMessage(incident: IncidentRow, change: Extract<IncidentChange, { kind: 'resolved' }>, who: string): Message {
  const text = `✅ ${who} resolved ${incidentKey(incident.number)} after ${formatDuration(change.timeToRestoreSeconds)}`;
  return {
    text,
    blocks: [
      section(`${text}${change.summary ? `\n*Resolution:* ${toMrkdwn(change.summary)}` : ''}`),
      section(
        'So the fix reaches development, open a follow-up: a problem record the team can plan as backlog work.',
        button(incidentActionIds.followUp, 'Create follow-up', incident.id, 'primary'),
      ),
    ],
  };
}

/** The message for the service's incidents (announcement) channel. */
export function announcement(incident: IncidentRow, change: IncidentChange, actor: string): Message | undefined {
  const subject = reference(incident);
  const service = incident.service ? ` (${incident.service})` : '';
  const who = actorMention(actor);
  switch (change.kind) {
    case 'declared':
      return {
        text: `${severityMarks[incident.severity] ?? ''} ${severityLabel(incident.severity)} declared: ${subject}${service} by ${who}. Join the channel to help.`,
      };
    case 'severity':
      return { text: `${subject}: severity ${severityLabel(change.from)} → *${severityLabel(change.to)}* (${who})` };
    case 'status':
      return { text: `${subject}: status *${statusLabels[change.to]}* (${who})${change.note ? ` — ${toMrkdwn(change.note)}` : ''}` };
    case 'commander':
      return { text: `${subject}: <@${change.to}> is incident commander` };
    case 'update':
      return { text: `${subject}: ${toMrkdwn(change.text)} (${who})` };
    case 'resolved':
      return {
        text: `✅ ${subject} resolved after ${formatDuration(change.timeToRestoreSeconds)}${change.summary ? `: ${toMrkdwn(change.summary)}` : ''}`,
      };
    case 'follow_up':
      return undefined;
    case 'caused_by':
      return { text: `${subject}: caused by *CHG-${change.changeNumber}* ${toMrkdwn(change.changeTitle)} (${who})` };
  }
}

/**
 * What a customer channel is told. Customers hear about impact on the service, never
 * the internal title, people or severity.
 */
export function customerNotice(incident: IncidentRow, change: IncidentChange): Message | undefined {
  const affected = `*${incident.service ?? 'our service'}*`;
  const text = customerSentence(affected, change);
  return text ? { text: `${text} _(Reference ${incidentKey(incident.number)})_` } : undefined;
}

function customerSentence(affected: string, change: IncidentChange): string | undefined {
  switch (change.kind) {
    case 'declared':
      return `⚠️ We are investigating an issue affecting ${affected}. We will post updates here.`;
    case 'status':
      if (change.to === 'identified') return `🔎 We have identified the cause of the issue affecting ${affected} and are working on a fix.`;
      if (change.to === 'monitoring') return `👀 A fix for the issue affecting ${affected} is in place and we are monitoring it.`;
      return undefined;
    case 'update':
      return `Update on the issue affecting ${affected}: ${toMrkdwn(change.text)}`;
    case 'resolved':
      return `✅ The issue affecting ${affected} is resolved. Thank you for your patience.`;
    default:
      return undefined;
  }
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

export function declareModal(catalog: Catalog, defaults: { service?: string; title?: string } = {}): ModalView {
  const services = serviceNames(catalog);
  const blocks: Block[] = [
    // Slack's own maximum, not the title's: Tandem shortens a long title itself, so nobody in an outage is stopped by a counter.
    textInput(fieldIds.title, 'Title', {
      maxLength: 3000,
      initial: defaults.title,
      placeholder: 'What is broken, for whom?',
      hint: `A title over ${maxTitleLength} characters is shortened; its whole text opens the description.`,
    }),
    selectInput(fieldIds.severity, 'Severity', severityChoices, {
      optional: true,
      hint: 'Leave empty for the service’s default (SEV3 without one).',
    }),
  ];
  if (services.length > 0) {
    blocks.push(
      selectInput(fieldIds.service, 'Service', services.map((service) => option(service, service)), {
        optional: true,
        initial: defaults.service,
        hint: 'Its on-call and owners are invited, and its channels are told.',
      }),
    );
  }
  blocks.push(
    textInput(fieldIds.description, 'Description', { multiline: true, optional: true, maxLength: 3000 }),
    checkboxInput(fieldIds.private, 'Visibility', option('Private channel (security or sensitive incidents)', 'private')),
  );
  return modal(incidentViewIds.declare, 'Declare an incident', blocks, 'Declare');
}

const severityDescriptions: Record<Severity, string> = {
  1: 'SEV1 · critical, customers blocked',
  2: 'SEV2 · major, degraded for many',
  3: 'SEV3 · minor, workaround exists',
  4: 'SEV4 · low, cosmetic or internal',
};

const severityChoices = severities.map((severity) => option(severityDescriptions[severity], String(severity)));

/** A modal about one incident: its name on top, the incident id in private_metadata. */
function incidentModal(
  incident: IncidentRow,
  callbackId: string,
  title: string,
  submit: string,
  inputs: Block[],
  intro = '',
): ModalView {
  return modal(callbackId, title, [section(`${reference(incident)}${intro ? `\n${intro}` : ''}`), ...inputs], submit, {
    incidentId: incident.id,
  });
}

export function statusModal(incident: IncidentRow): ModalView {
  const choices = incidentStatuses.filter((status) => status !== 'resolved').map((status) => option(statusLabels[status], status));
  return incidentModal(incident, incidentViewIds.status, 'Update status', 'Update', [
    selectInput(fieldIds.status, 'Status', choices, { initial: incident.status }),
    textInput(fieldIds.note, 'What changed?', { multiline: true, optional: true, maxLength: 3000 }),
  ]);
}

export function severityModal(incident: IncidentRow): ModalView {
  return incidentModal(incident, incidentViewIds.severity, 'Change severity', 'Change', [
    selectInput(fieldIds.severity, 'Severity', severityChoices, { initial: String(incident.severity) }),
  ]);
}

export function commanderModal(incident: IncidentRow): ModalView {
  return incidentModal(incident, incidentViewIds.commander, 'Assign commander', 'Assign', [
    userInput(fieldIds.commander, 'Incident commander', { initial: incident.commander ?? undefined }),
  ]);
}

export function updateModal(incident: IncidentRow): ModalView {
  return incidentModal(
    incident,
    incidentViewIds.update,
    'Post update',
    'Post',
    [textInput(fieldIds.text, 'Update', { multiline: true, maxLength: 3000 })],
    'Stakeholders and, for customer-facing services, customers see this update.',
  );
}

export function resolveModal(incident: IncidentRow): ModalView {
  return incidentModal(incident, incidentViewIds.resolve, 'Resolve incident', 'Resolve', [
    textInput(fieldIds.summary, 'Resolution summary', {
      multiline: true,
      maxLength: 3000,
      placeholder: 'What restored service? What is left to do?',
    }),
  ]);
}

export function followUpModal(incident: IncidentRow): ModalView {
  return incidentModal(
    incident,
    incidentViewIds.followUp,
    'Create follow-up',
    'Create',
    [
      textInput(fieldIds.title, 'Title', { initial: `Follow-up: ${toPlainText(incident.title)}`.slice(0, maxTitleLength), maxLength: maxTitleLength }),
      textInput(fieldIds.description, 'What should change?', { multiline: true, optional: true, maxLength: 3000 }),
    ],
    'A problem record captures the underlying cause so the fix gets planned.',
  );
}

/** Picks the change that caused the incident among the service's recent ones. */
export function linkCauseModal(incident: IncidentRow, candidates: Array<{ number: number; title: string; status: string }>): ModalView {
  return incidentModal(incident, incidentViewIds.linkCause, 'Link cause', 'Link', [
    selectInput(
      fieldIds.change,
      'Change that caused it',
      candidates.map((change) => option(`CHG-${change.number} · ${toPlainText(change.title)} (${change.status})`, String(change.number))),
      { hint: 'The change will count as failed in the change success rate.' },
    ),
  ]);
}

export function problemCreatedReply(problem: ProblemRow, incident: IncidentRow): Message {
  return { text: `📝 Created *${problemKey(problem.number)}* for ${incidentKey(incident.number)}: ${toMrkdwn(problem.title)}` };
}

export function helpText(): string {
  return [
    '*Incidents*',
    '• `/incident <title> [service=<name>] [sev=<1-4>] [--private] [@people]`: declare an incident and open its channel',
    '• `/incident`: declare with a form',
    '*Inside an incident channel*',
    '• `/incident sev <1-4>`: change severity',
    `• \`/incident status <${incidentStatuses.join('|')}>\`: change status`,
    '• `/incident commander @person` (or `me`): assign the incident commander',
    '• `/incident update <text>`: post an update to stakeholders',
    '• `/incident resolve [summary]`: resolve and record time to restore',
    '• `/incident link CHG-42`: record the change that caused it (the change counts as failed)',
  ].join('\n');
}
