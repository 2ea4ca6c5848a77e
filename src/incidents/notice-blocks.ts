import type { IncidentRow } from '../db/schema';
import { button, type Message, section } from '../slack/blocks';
import { actorMention, toMrkdwn } from '../slack/text';
import { formatDuration } from '../time';
import { followUpStateLabels, type IncidentChange, incidentKey, problemKey, severityLabel } from './model';
import { incidentActionIds, reference, severityMarks, statusLabels } from './blocks';

/** What a change says in the swarm channel, the service's incidents channel and its customer channels. */

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
    case 'role':
      return { text: `🎭 ${key}: ${who} made <@${change.to}> *${change.role}*${change.from ? ` (was <@${change.from}>)` : ''}` };
    case 'update':
      return { text: `📣 ${key} update from ${who}\n${toMrkdwn(change.text)}` };
    case 'resolved':
      return resolutionMessage(incident, change, who);
    case 'follow_up':
      return {
        text: `📝 ${key}: ${who} opened follow-up *${problemKey(change.problemNumber)}*: ${toMrkdwn(change.title)}${change.owner ? ` (owner <@${change.owner}>)` : ''}`,
      };
    case 'follow_up_state':
      return change.feature
        ? { text: `✅ ${key}: follow-up *${problemKey(change.problemNumber)}* ${toMrkdwn(change.title)} is done: its sprint feature was marked done.` }
        : { text: `📝 ${key}: ${who} marked follow-up *${problemKey(change.problemNumber)}* ${toMrkdwn(change.title)} as *${followUpStateLabels[change.to]}*.` };
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
    case 'role':
      return { text: `${subject}: <@${change.to}> is ${change.role}` };
    case 'update':
      return { text: `${subject}: ${toMrkdwn(change.text)} (${who})` };
    case 'resolved':
      return {
        text: `✅ ${subject} resolved after ${formatDuration(change.timeToRestoreSeconds)}${change.summary ? `: ${toMrkdwn(change.summary)}` : ''}`,
      };
    case 'follow_up':
    case 'follow_up_state':
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

