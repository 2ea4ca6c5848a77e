import { z } from 'zod';
import type { IncidentRow } from '../db/schema';
import { claimPeriods } from '../jobs/periods';
import { outboxTopic } from '../slack/outbox-topic';
import { dayMs } from '../time';
import { unitOfWork } from '../unit-of-work';
import type { IncidentDeps } from './deps';
import { noticeTopic } from './messaging';
import { archiveNotice } from './reminder-blocks';
import * as rhythmStore from './rhythm-store';
import * as store from './store';

/**
 * Archiving a resolved incident's channel `incidents.archive_after_days` days after
 * resolution (0 never): a last message, then conversations.archive, both through
 * the outbox in the channel's order. The archive is claimed once per incident in
 * scheduled_runs, so however many instances tick it is asked for once, and a
 * refusal (not_in_channel, channel_not_found) is recorded on the timeline, not retried.
 */

export const archiveTopic = outboxTopic('incident.archive', z.uuid());

/** How many incidents one tick archives at most; the rest go on the next tick. */
const batchSize = 20;

/** Archives the channels of incidents resolved long enough ago. Every instance runs it. */
export async function archiveResolvedChannels(deps: IncidentDeps): Promise<void> {
  const days = deps.catalog.incidents.archive_after_days;
  if (days === 0) return;
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - days * dayMs);
  for (const due of await rhythmStore.dueArchives(deps.db, cutoff, batchSize)) {
    await unitOfWork(deps, async (work) => {
      const incident = await store.lockIncident(work.tx, due.id);
      // Something may have changed since the scan; an incident no longer resolved keeps its channel.
      if (!incident || !isDueForArchive(incident, cutoff)) return;
      const job = rhythmStore.archiveJob(incident.id);
      const won = await claimPeriods(work.tx, deps.clock, [{ job, period: { key: 'archive', at: new Date(incident.resolvedAt!.getTime() + days * dayMs) } }]);
      if (!won.has(job)) return;
      const channel = incident.channelId!;
      await work.send([
        noticeTopic.message(incident.id, {
          method: 'chat.postMessage',
          args: { channel, ...archiveNotice(incident, days), unfurl_links: false },
          dedupKey: `incident:${incident.id}:archive-notice`,
        }),
        archiveTopic.message(incident.id, { method: 'conversations.archive', args: { channel }, dedupKey: `incident:${incident.id}:archive` }),
      ]);
    });
  }
}

function isDueForArchive(incident: IncidentRow, cutoff: Date): boolean {
  return incident.status === 'resolved' && !incident.archivedAt && !!incident.channelId && !!incident.resolvedAt && incident.resolvedAt <= cutoff;
}

/** The archive was done (or Slack had it archived already): record when, on the row and the timeline. */
async function recordArchived(deps: IncidentDeps, incidentId: string, channel: string, note?: string): Promise<void> {
  const now = deps.clock.now();
  const archived = await rhythmStore.markArchived(deps.db, incidentId, now);
  if (!archived) return;
  await store.appendEvent(deps.db, {
    incidentId,
    at: now,
    actor: 'tandem',
    kind: 'archived',
    text: `Archived <#${channel}>${note ? ` (${note})` : ''}`,
    data: { channel },
  });
}

export const archiveHandler = (deps: IncidentDeps) =>
  archiveTopic.handler({
    sent: async (incidentId, _response, row) => recordArchived(deps, incidentId, row.channel ?? ''),
    failed: async (incidentId, error, row) => {
      const channel = row.channel ?? '';
      if (error === 'already_archived') return recordArchived(deps, incidentId, channel, 'it was archived already');
      await store.appendEvent(deps.db, {
        incidentId,
        at: deps.clock.now(),
        actor: 'tandem',
        kind: 'slack_error',
        text: `Could not archive <#${channel}>: ${error}`,
        data: { step: 'archive', channel, error },
      });
    },
  });
