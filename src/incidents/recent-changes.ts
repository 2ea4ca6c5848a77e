import type { ChangeRow, DeploymentRow, IncidentRow } from '../db/schema';
import { findChangeById, findDeployment, listChangesActiveSince, listDeploymentsSince } from '../changes/store';
import { conflict, invalid, notFound } from '../errors';
import { type Block, button, context, type Message, section } from '../slack/blocks';
import type { OutboxMessage } from '../slack/outbox';
import { slackDate, toMrkdwn, toPlainText } from '../slack/text';
import { dayMs } from '../time';
import { unitOfWork } from '../unit-of-work';
import { linkCause } from './cause';
import type { IncidentDeps } from './deps';
import { noticeTopic } from './messaging';
import { incidentKey } from './model';
import { refreshSummary } from './notices';
import * as store from './store';

/**
 * At declaration the channel sees what changed on the service in the last 24 hours
 * (from Tandem's own records), each with **Link as cause**, so the likely culprit is
 * one click away. Posted once per incident: the outbox drops a repeat of the same key.
 */

export const linkAsCauseActionId = 'incident.link_as_cause';

/** Listed of each kind at most; the rest are counted, so the message stays within Block Kit's 50 blocks. */
const maxListed = 10;
const lookBackMs = dayMs;

export interface RecentActivity {
  changes: ChangeRow[];
  deployments: DeploymentRow[];
  /** How many more there were than listed. */
  moreChanges: number;
  moreDeployments: number;
}

export async function recentActivity(deps: Pick<IncidentDeps, 'db'>, service: string, now: Date): Promise<RecentActivity> {
  const since = new Date(now.getTime() - lookBackMs);
  const [changes, deployments] = await Promise.all([
    listChangesActiveSince(deps.db, service, since, maxListed + 100),
    listDeploymentsSince(deps.db, service, since, maxListed + 100),
  ]);
  return {
    changes: changes.slice(0, maxListed),
    deployments: deployments.slice(0, maxListed),
    moreChanges: Math.max(0, changes.length - maxListed),
    moreDeployments: Math.max(0, deployments.length - maxListed),
  };
}

/** What a Link as cause button carries: the incident, and the change or deployment. */
const causeValue = (incident: IncidentRow, kind: 'change' | 'deployment', id: string) => `${incident.id}|${kind}|${id}`;

export function readCauseValue(value: string): { incidentId: string; kind: 'change' | 'deployment'; id: string } | undefined {
  const match = /^([0-9a-f-]{36})\|(change|deployment)\|([0-9a-f-]{36})$/i.exec(value);
  return match ? { incidentId: match[1]!, kind: match[2] as 'change' | 'deployment', id: match[3]! } : undefined;
}

/** The channel's message; a single line when nothing changed. */
export function recentChangesMessage(incident: IncidentRow, service: string, activity: RecentActivity): Message {
  const { changes, deployments, moreChanges, moreDeployments } = activity;
  if (changes.length === 0 && deployments.length === 0) {
    return { text: `No changes or deployments of ${service} in the last 24 h.` };
  }
  const blocks: Block[] = [section(`*What changed on ${toMrkdwn(service)} in the last 24 h* — link the one that caused ${incidentKey(incident.number)}:`)];
  for (const change of changes) {
    const when = change.failedAt ?? change.deployedAt ?? change.decidedAt;
    blocks.push(
      section(
        `*CHG-${change.number}* ${toMrkdwn(toPlainText(change.title))} · ${change.status} · ${change.environment}${when ? ` · ${slackDate(when)}` : ''}`,
        button(linkAsCauseActionId, 'Link as cause', causeValue(incident, 'change', change.id)),
      ),
    );
  }
  if (moreChanges > 0) blocks.push(context(`and ${moreChanges} more changes: \`/incident link CHG-n\` links any of them.`));
  for (const deployment of deployments) {
    const of = deployment.changeId ? changes.find((change) => change.id === deployment.changeId) : undefined;
    blocks.push(
      section(
        `*Deployment* to ${toMrkdwn(deployment.environment)} · ${deployment.status}${deployment.commitSha ? ` · \`${deployment.commitSha.slice(0, 12)}\`` : ''}${of ? ` · CHG-${of.number}` : ''} · ${slackDate(deployment.finishedAt)}`,
        button(linkAsCauseActionId, 'Link as cause', causeValue(incident, 'deployment', deployment.id)),
      ),
    );
  }
  if (moreDeployments > 0) blocks.push(context(`and ${moreDeployments} more deployments`));
  const count = changes.length + moreChanges + deployments.length + moreDeployments;
  return { text: `${count} changes and deployments of ${service} in the last 24 h`, blocks };
}

/** The message for the swarm set-up; undefined without a channel or a service. Keyed to the incident, so set-up retries post it once. */
export async function recentChangesNotice(deps: IncidentDeps, incident: IncidentRow): Promise<OutboxMessage | undefined> {
  if (!incident.channelId || !incident.service) return undefined;
  const message = recentChangesMessage(incident, incident.service, await recentActivity(deps, incident.service, deps.clock.now()));
  return noticeTopic.message(incident.id, {
    method: 'chat.postMessage',
    args: { channel: incident.channelId, ...message, unfurl_links: false },
    dedupKey: `incident:${incident.id}:recent-changes`,
  });
}

/**
 * **Link as cause**: a change is linked as `/incident link CHG-n` links it (it then
 * counts as failed); a deployment links its change, or, without one, itself.
 */
export async function linkListedCause(deps: IncidentDeps, value: string, actor: string): Promise<IncidentRow> {
  const cause = readCauseValue(value);
  if (!cause) throw invalid('stale_button', 'That button is out of date or damaged, so nothing changed.');
  if (cause.kind === 'change') {
    if (!(await findChangeById(deps.db, cause.id))) throw notFound('change_not_found', 'That change no longer exists.');
    return linkCause(deps, cause.incidentId, cause.id, actor);
  }
  const deployment = await findDeployment(deps.db, cause.id);
  if (!deployment) throw notFound('deployment_not_found', 'That deployment no longer exists.');
  if (deployment.changeId) return linkCause(deps, cause.incidentId, deployment.changeId, actor);
  return linkDeployment(deps, cause.incidentId, deployment, actor);
}

async function linkDeployment(deps: IncidentDeps, incidentId: string, deployment: DeploymentRow, actor: string): Promise<IncidentRow> {
  const linked = await unitOfWork(deps, async (work) => {
    const incident = await store.lockIncident(work.tx, incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    if (incident.causedByDeploymentId === deployment.id) {
      throw conflict('unchanged', `${incidentKey(incident.number)} is already linked to that deployment.`);
    }
    const now = deps.clock.now();
    const row = await store.updateIncident(work.tx, incident.id, { causedByDeploymentId: deployment.id, updatedAt: now });
    const text = `Caused by the ${deployment.environment} deployment of ${deployment.finishedAt.toISOString()}, which now counts as failed`;
    const event = await store.appendEvent(work.tx, { incidentId: incident.id, at: now, actor, kind: 'caused_by_deployment', text, data: { deployment: deployment.id } });
    if (incident.channelId) {
      await work.send([
        noticeTopic.message(incident.id, {
          method: 'chat.postMessage',
          args: { channel: incident.channelId, text: `🔗 ${incidentKey(incident.number)}: <@${actor}> linked the cause: ${text}.`, unfurl_links: false },
          dedupKey: `incident:${incident.id}:event-${event.id}:${incident.channelId}`,
        }),
      ]);
    }
    work.emit({ kind: 'incident', incident: row });
    return row;
  });
  deps.background.run(() => refreshSummary(deps, linked.id));
  return linked;
}

