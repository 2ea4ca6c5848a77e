import { claimPeriods } from '../jobs/periods';
import type { Schedule } from '../jobs/scheduler';
import { unitOfWork } from '../unit-of-work';
import { archiveResolvedChannels } from './archive';
import type { IncidentDeps } from './deps';
import { reconcileFollowUps } from './follow-ups';
import { uploadDuePostmortems } from './postmortem-upload';
import { pruneConversations } from './retention';
import { commanderAfterMinutes, dueReminders, monitoringAfterMinutes, reminderPost } from './reminders';
import * as rhythmStore from './rhythm-store';
import * as store from './store';

/**
 * Scheduled work of incidents. Every instance ticks; each reminder's period and each
 * channel's archive is claimed in the database, so it happens once however many
 * instances run, and one missed while no instance ran is caught up on the next tick.
 */

/** Open incidents looked at per tick; far more than are ever open at once. */
const reminderBatch = 200;

/** Posts the reminders that are due now, each once per period. */
export async function sendDueReminders(deps: IncidentDeps): Promise<void> {
  const scan = {
    now: deps.clock.now(),
    commanderAfterMinutes,
    monitoringAfterMinutes,
    updateEveryMinutes: deps.catalog.incidents.update_every_minutes,
    limit: reminderBatch,
  };
  for (const candidate of await rhythmStore.dueReminderStates(deps.db, scan)) {
    if (dueReminders(candidate, scan.updateEveryMinutes, scan.now).length === 0) continue;
    await unitOfWork(deps, async (work) => {
      // Under the incident's lock, so a resolve or an update that just landed is seen.
      if (!(await store.lockIncident(work.tx, candidate.incident.id))) return;
      const now = deps.clock.now();
      const [state] = await rhythmStore.dueReminderStates(work.tx, { ...scan, now, ids: [candidate.incident.id] });
      if (!state) return;
      const due = dueReminders(state, scan.updateEveryMinutes, now);
      const won = await claimPeriods(work.tx, deps.clock, due);
      const posts = due.filter((reminder) => won.has(reminder.job)).map((reminder) => reminderPost(state, reminder, now));
      await work.send(posts.filter((post) => post !== undefined));
    });
  }
}

/** The incident schedules; each catches up at start-up. */
export function incidentSchedules(deps: IncidentDeps): Schedule[] {
  return [
    { name: 'incident-reminders', cron: '* * * * *', timeZone: deps.timeZone, run: () => sendDueReminders(deps), runAtStart: true },
    { name: 'incident-archive', cron: '*/10 * * * *', timeZone: deps.timeZone, run: () => archiveResolvedChannels(deps), runAtStart: true },
    // Postmortem drafts whose upload failed on resolve are retried here.
    { name: 'incident-postmortems', cron: '* * * * *', timeZone: deps.timeZone, run: () => uploadDuePostmortems(deps), runAtStart: true },
    // Follow-ups raised before their service had a sprint join it; a done feature nobody heard of closes its follow-up.
    // Stored channel messages are kept only for incidents.message_retention_days after the channel is archived.
    { name: 'incident-message-retention', cron: '41 * * * *', timeZone: deps.timeZone, run: async () => void (await pruneConversations(deps)), runAtStart: true },
    { name: 'incident-follow-ups', cron: '*/5 * * * *', timeZone: deps.timeZone, run: () => reconcileFollowUps(deps), runAtStart: true },
  ];
}
