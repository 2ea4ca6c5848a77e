import { findService } from '../catalog';
import type { IncidentRow } from '../db/schema';
import { slackErrorCode } from '../slack/errors';
import type { Work } from '../unit-of-work';
import { summaryMessage } from './blocks';
import type { IncidentDeps } from './deps';
import { noticesFor } from './messaging';
import { describeChange, type IncidentChange } from './model';
import { rolesOf } from './role-holders';
import * as store from './store';

/** What Slack hears about a change: its timeline entry's notices, the pinned summary, and what could not be posted. */

/** Writes a change to the timeline and queues its notices, in the caller's unit of work. */
export async function recordChange(
  work: Work,
  deps: IncidentDeps,
  incident: IncidentRow,
  change: IncidentChange,
  actor: string,
  at: Date,
  data: Record<string, unknown>,
): Promise<void> {
  const event = await store.appendEvent(work.tx, { incidentId: incident.id, at, actor, kind: change.kind, text: describeChange(change), data });
  const service = incident.service ? findService(deps.catalog, incident.service) : undefined;
  await work.send(noticesFor(incident, service, change, actor, `event-${event.id}`, true));
}

/** Re-renders the pinned summary from the current row. Best effort: the next change renders it again. */
export async function refreshSummary(deps: IncidentDeps, incidentId: string): Promise<void> {
  const incident = await store.findIncidentById(deps.db, incidentId);
  if (!incident?.channelId || !incident.summaryTs) return;
  try {
    await deps.slack.chat.update({ channel: incident.channelId, ts: incident.summaryTs, ...summaryMessage(incident, await rolesOf(deps, incident)) });
  } catch (error) {
    deps.logger.warn({ incident: incident.number, error: slackErrorCode(error) }, 'could not refresh incident summary');
  }
}

/** Records a notice that could not be delivered on the incident's timeline. */
export async function recordUndeliveredNotice(
  deps: IncidentDeps,
  notice: { incidentId: string; channel: string },
  error: string,
): Promise<void> {
  await store.appendEvent(deps.db, {
    incidentId: notice.incidentId,
    at: deps.clock.now(),
    actor: 'tandem',
    kind: 'slack_error',
    text: `Could not post to <#${notice.channel}>: ${error}`,
    data: { step: 'notify', channel: notice.channel, error },
  });
}
