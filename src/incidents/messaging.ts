import { z } from 'zod';
import type { ServiceConfig } from '../catalog';
import type { IncidentRow } from '../db/schema';
import type { OutboxMessage } from '../slack/outbox';
import { outboxTopic } from '../slack/outbox-topic';
import { declaredReply, type SetupReport } from './blocks';
import type { IncidentChange } from './model';
import { announcement, channelNote, customerNotice } from './notice-blocks';

/** The posts a change causes. The payload is the incident's id, so one that cannot be delivered lands on its timeline. */
export const noticeTopic = outboxTopic('incident.notice', z.uuid());

/** The declarer's DM about set-up steps Slack refused for good, keyed to the incident. */
const setupProblemsTopic = outboxTopic('incident.setup_problems', z.uuid());

/** The posts one change causes: the swarm channel, the service's incidents channel, its customers. */
export function noticesFor(
  incident: IncidentRow,
  service: ServiceConfig | undefined,
  change: IncidentChange,
  actor: string,
  key: string,
  inChannel: boolean,
): OutboxMessage[] {
  const messages: OutboxMessage[] = [];
  const post = (channel: string, message: { text: string; blocks?: unknown[] }) =>
    messages.push(
      noticeTopic.message(incident.id, {
        method: 'chat.postMessage',
        args: { channel, ...message, unfurl_links: false },
        dedupKey: `incident:${incident.id}:${key}:${channel}`,
      }),
    );
  if (inChannel && incident.channelId) post(incident.channelId, channelNote(incident, change, actor));
  // Private incidents stay in their channel: announcing them would defeat the point.
  if (incident.private || !service) return messages;
  const stakeholderMessage = announcement(incident, change, actor);
  if (service.channels.incidents && stakeholderMessage) post(service.channels.incidents, stakeholderMessage);
  const customerMessage = customerNotice(incident, change);
  if (customerMessage) for (const channel of service.channels.customers) post(channel, customerMessage);
  return messages;
}

/** Tells the declarer what set-up could not do, once per run (keyed by that run's first problem on the timeline). */
export function setupProblemsMessage(incident: IncidentRow, report: SetupReport, firstProblemEvent: number): OutboxMessage {
  return setupProblemsTopic.message(incident.id, {
    method: 'chat.postMessage',
    args: { channel: incident.declaredBy, ...declaredReply(incident, report), unfurl_links: false },
    dedupKey: `incident:${incident.id}:setup-problems:${firstProblemEvent}`,
  });
}
