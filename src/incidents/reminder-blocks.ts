import type { IncidentRow } from '../db/schema';
import { actions, button, type Message, section } from '../slack/blocks';
import { actorMention, slackDate } from '../slack/text';
import { formatDuration } from '../time';
import { incidentActionIds } from './blocks';
import { incidentKey, severityLabel } from './model';

/** The reminders Tandem posts in an incident channel, and the archive notice. */

export const reminderActionIds = {
  takeCommand: 'incident.take_command',
  snooze30: 'incident.snooze_30',
  snooze60: 'incident.snooze_60',
  snooze240: 'incident.snooze_240',
} as const;

/** The snooze lengths the update reminder offers, in minutes, with their button labels. */
export const snoozeChoices: ReadonlyArray<{ actionId: string; minutes: number; label: string }> = [
  { actionId: reminderActionIds.snooze30, minutes: 30, label: 'Snooze 30 min' },
  { actionId: reminderActionIds.snooze60, minutes: 60, label: 'Snooze 1 h' },
  { actionId: reminderActionIds.snooze240, minutes: 240, label: 'Snooze 4 h' },
];

/** A snooze button's value: the incident, and the reminder it answers by its due time. */
export const snoozeValue = (incidentId: string, dueAt: Date) => `${incidentId}|${dueAt.getTime()}`;

const key = (incident: IncidentRow) => `*${incidentKey(incident.number)}*`;

export function noCommanderReminder(incident: IncidentRow, minutes: number): Message {
  const text = `🧭 ${key(incident)} has had no commander for ${minutes} minutes. Who leads it? Take command, or name someone with \`/incident commander @person\`.`;
  return {
    text,
    blocks: [section(text), actions('incident_reminder', [button(reminderActionIds.takeCommand, 'I’ll take command', incident.id, 'primary')])],
  };
}

export function updateReminder(incident: IncidentRow, reminder: { lastUpdateAt: Date; dueAt: Date; now: Date }): Message {
  const silent = formatDuration((reminder.now.getTime() - reminder.lastUpdateAt.getTime()) / 1000);
  const who = incident.commander ? `<@${incident.commander}>, ` : '';
  const nobody = incident.commander ? '' : ' It has no commander either: `/incident commander @person`.';
  const text = `⏰ ${who}${key(incident)} (${severityLabel(incident.severity)}) has had no update for ${silent}. Post one so everyone knows where it stands.${nobody}`;
  const value = snoozeValue(incident.id, reminder.dueAt);
  return {
    text,
    blocks: [
      section(text),
      actions('incident_reminder', [
        button(incidentActionIds.update, 'Post update', incident.id, 'primary'),
        ...snoozeChoices.map((choice) => button(choice.actionId, choice.label, value)),
      ]),
    ],
  };
}

export function snoozedMessage(incident: IncidentRow, user: string, until: Date, minutes: number): Message {
  return { text: `😴 ${actorMention(user)} snoozed the update reminder of ${key(incident)} for ${formatDuration(minutes * 60)}, until ${slackDate(until, '{time}')}.` };
}

export function monitoringReminder(incident: IncidentRow, hours: number): Message {
  const who = incident.commander ? `<@${incident.commander}>, ` : '';
  const text = `👀 ${who}${key(incident)} has been monitoring for ${hours} hours. Can it be resolved?`;
  return {
    text,
    blocks: [section(text), actions('incident_reminder', [button(incidentActionIds.resolve, 'Resolve', incident.id, 'primary')])],
  };
}

export function archiveNotice(incident: IncidentRow, days: number): Message {
  return {
    text: `🗄️ ${key(incident)} was resolved ${days} ${days === 1 ? 'day' : 'days'} ago, so Tandem archives this channel now. Its timeline stays in Tandem.`,
  };
}
