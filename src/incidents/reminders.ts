import { z } from 'zod';
import type { IncidentRow } from '../db/schema';
import { conflict, forbidden, notFound } from '../errors';
import type { Period } from '../jobs/periods';
import type { OutboxMessage } from '../slack/outbox';
import { outboxTopic } from '../slack/outbox-topic';
import { slackDate } from '../slack/text';
import { dayMs, formatDuration } from '../time';
import { unitOfWork } from '../unit-of-work';
import type { IncidentDeps } from './deps';
import { ensureOpen } from './lifecycle';
import { incidentKey } from './model';
import { monitoringReminder, noCommanderReminder, updateReminder } from './reminder-blocks';
import * as rhythmStore from './rhythm-store';
import * as store from './store';

/**
 * Reminders of an open incident: no commander after ten minutes, no update within
 * the severity's interval (catalog `incidents.update_every_minutes`), monitoring for
 * a day. An "update" is the last `/incident update` (or **Post update**), status or
 * severity change; before the first one the interval counts from the declaration.
 * Each reminder is due once per interval: the update reminder at the last update
 * plus the interval (or at the snooze's end, when later), then every interval after
 * it until an update comes; the monitoring question every 24 hours in monitoring.
 */

export const commanderAfterMinutes = 10;
export const monitoringAfterMinutes = 24 * 60;
const minuteMs = 60_000;

export type ReminderKind = 'commander' | 'update' | 'monitoring';

export interface DueReminder {
  kind: ReminderKind;
  /** Claimed in scheduled_runs with `period`, so exactly one instance posts it. */
  job: string;
  period: Period;
}

export const reminderJob = (incidentId: string, kind: ReminderKind) => `incident-reminder:${incidentId}:${kind}`;

/** The latest of `first`, `first + every`, `first + 2·every`, … that is not after `now`. */
function latestStep(first: number, every: number, now: number): Date {
  return new Date(first + Math.floor((now - first) / every) * every);
}

/** Which reminders are due for this incident now, and for which period. Pure. */
export function dueReminders(
  state: { incident: IncidentRow; lastUpdateAt: Date; snoozedUntil: Date | null; monitoringSince: Date | null },
  updateEveryMinutes: Partial<Record<number, number>>,
  now: Date,
): DueReminder[] {
  const { incident } = state;
  if (incident.status === 'resolved' || !incident.channelId) return [];
  const due: DueReminder[] = [];
  const at = now.getTime();
  const commanderDue = incident.declaredAt.getTime() + commanderAfterMinutes * minuteMs;
  if (!incident.commander && commanderDue <= at) {
    due.push({ kind: 'commander', job: reminderJob(incident.id, 'commander'), period: { key: 'declared+10m', at: new Date(commanderDue) } });
  }
  const minutes = updateEveryMinutes[incident.severity];
  if (minutes) {
    const every = minutes * minuteMs;
    const first = Math.max(state.lastUpdateAt.getTime() + every, state.snoozedUntil?.getTime() ?? 0);
    if (first <= at) {
      const step = latestStep(first, every, at);
      due.push({ kind: 'update', job: reminderJob(incident.id, 'update'), period: { key: step.toISOString(), at: step } });
    }
  }
  if (incident.status === 'monitoring' && state.monitoringSince) {
    const first = state.monitoringSince.getTime() + monitoringAfterMinutes * minuteMs;
    if (first <= at) {
      const step = latestStep(first, dayMs, at);
      due.push({ kind: 'monitoring', job: reminderJob(incident.id, 'monitoring'), period: { key: step.toISOString(), at: step } });
    }
  }
  return due;
}

/**
 * **Snooze** on an update reminder: no update reminder before `minutes` from now.
 * The commander snoozes (anyone in the channel when there is none); a reminder
 * answered since (an update, another snooze) is stale and changes nothing.
 */
export async function snoozeUpdateReminder(
  deps: IncidentDeps,
  input: { incidentId: string; user: string; reminderDueAt: Date; minutes: number },
): Promise<{ incident: IncidentRow; until: Date }> {
  return unitOfWork(deps, async ({ tx }) => {
    const incident = await store.lockIncident(tx, input.incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    ensureOpen(incident);
    if (incident.commander && incident.commander !== input.user) {
      throw forbidden('not_allowed', `Only the commander, <@${incident.commander}>, snoozes the update reminders of ${incidentKey(incident.number)}. Post an update instead.`);
    }
    const lastUpdate = await rhythmStore.findLastUpdateAt(tx, incident.id);
    if (lastUpdate && lastUpdate > input.reminderDueAt) {
      throw conflict('stale_button', `${incidentKey(incident.number)} has had an update since this reminder, so there is nothing to snooze.`);
    }
    const snooze = await rhythmStore.findSnooze(tx, incident.id);
    if (snooze && snooze.reminderDueAt >= input.reminderDueAt) {
      throw conflict('stale_button', `<@${snooze.snoozedBy}> already snoozed this reminder until ${slackDate(snooze.until, '{time}')}.`);
    }
    const now = deps.clock.now();
    const until = new Date(now.getTime() + input.minutes * minuteMs);
    await rhythmStore.saveSnooze(tx, { incidentId: incident.id, until, snoozedBy: input.user, snoozedAt: now, reminderDueAt: input.reminderDueAt });
    await store.appendEvent(tx, {
      incidentId: incident.id,
      at: now,
      actor: input.user,
      kind: 'reminder_snoozed',
      text: `Update reminder snoozed for ${formatDuration(input.minutes * 60)}`,
      data: { minutes: input.minutes, until: until.toISOString(), reminderDueAt: input.reminderDueAt.toISOString() },
    });
    return { incident, until };
  });
}

/** Reminders posted in the incident's channel; one that cannot be delivered lands on the timeline. */
export const reminderTopic = outboxTopic('incident.reminder', z.uuid());

/** The post for a due reminder: always in the incident's own channel, so a private incident's stays there. */
export function reminderPost(
  state: { incident: IncidentRow; lastUpdateAt: Date },
  reminder: DueReminder,
  now: Date,
): OutboxMessage | undefined {
  const { incident } = state;
  if (!incident.channelId) return undefined;
  const message =
    reminder.kind === 'commander'
      ? noCommanderReminder(incident, commanderAfterMinutes)
      : reminder.kind === 'update'
        ? updateReminder(incident, { lastUpdateAt: state.lastUpdateAt, dueAt: reminder.period.at, now })
        : monitoringReminder(incident, monitoringAfterMinutes / 60);
  return reminderTopic.message(incident.id, {
    method: 'chat.postMessage',
    args: { channel: incident.channelId, ...message, unfurl_links: false },
    dedupKey: `${reminder.job}:${reminder.period.key}`,
  });
}
