import type { ChangeRow, DeploymentRow, IncidentEventRow, IncidentRow, ProblemRow } from '../db/schema';
import { actions, type Block, button, context, fields, header, type Message, section } from '../slack/blocks';
import { actorMention, slackDate, toMrkdwn, toPlainText, truncate } from '../slack/text';
import { incidentKey, problemKey, severityLabel } from './model';
import { type MessageEntryData, timelinePage } from './timeline';

/** `/incident timeline` and `/incident catchup`: views only, for the person who asked. */

export const timelineActionIds = { older: 'incident.timeline_older', newer: 'incident.timeline_newer' } as const;

/** Long messages are cut in lists; the permalink leads to the whole text. */
const entryTextLimit = 600;

/** One timeline entry as a line of mrkdwn: when, who, what (and the link to a channel message). */
export function timelineLine(entry: IncidentEventRow): string {
  const when = slackDate(entry.at, '{date_short} {time}');
  if (entry.kind !== 'message') return `${when} · ${actorMention(entry.actor)} · ${toMrkdwn(truncate(entry.text, entryTextLimit))}`;
  const data = entry.data as Partial<MessageEntryData>;
  const text = data.deleted || !data.text_available ? `_${entry.text}_` : toMrkdwn(truncate(entry.text, entryTextLimit));
  const link = data.permalink ? ` <${data.permalink}|view>` : '';
  const edited = data.edited_at ? ' _(edited)_' : '';
  return `${when} · 📌 ${actorMention(entry.actor)} · ${text}${edited}${link}`;
}

/** A page of the timeline, newest page first; within a page, oldest first. Always within Block Kit's 50 blocks. */
export function timelineReply(incident: IncidentRow, entries: IncidentEventRow[], page: number): Message {
  const shown = timelinePage(entries, page);
  const title = `${incidentKey(incident.number)} timeline`;
  const blocks: Block[] = [
    header(truncate(`${title}: ${toPlainText(incident.title)}`, 150)),
    context(
      entries.length === 0
        ? 'Nothing on the timeline yet.'
        : `Page ${shown.page} of ${shown.pages} · ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} · pin a message or react with the timeline emoji to add it`,
    ),
    ...shown.entries.map((entry) => section(timelineLine(entry))),
  ];
  const buttons = [
    ...(shown.page < shown.pages ? [button(timelineActionIds.older, 'Older', `${incident.id}:${shown.page + 1}`)] : []),
    ...(shown.page > 1 ? [button(timelineActionIds.newer, 'Newer', `${incident.id}:${shown.page - 1}`)] : []),
  ];
  if (buttons.length > 0) blocks.push(actions('timeline_pages', buttons));
  return { text: `${title}, page ${shown.page} of ${shown.pages}`, blocks };
}

/** Where an incident stands, for one person. Roles other than the commander slot in as they exist. */
export interface Catchup {
  incident: IncidentRow;
  roles: Array<{ role: string; user: string | null }>;
  lastUpdate: IncidentEventRow | undefined;
  latest: IncidentEventRow[];
  cause: { change?: ChangeRow; deployment?: DeploymentRow };
  followUps: Array<{ problem: ProblemRow; state: string; owner: string }>;
}

const listLimit = 10;

export function catchupReply(catchup: Catchup): Message {
  const { incident } = catchup;
  const key = incidentKey(incident.number);
  const blocks: Block[] = [
    header(truncate(`Catch up on ${key}: ${toPlainText(incident.title)}`, 150)),
    fields(
      `*Status*\n${incident.status}`,
      `*Severity*\n${severityLabel(incident.severity)}`,
      `*Declared*\n${slackDate(incident.declaredAt)}`,
      ...catchup.roles.map(({ role, user }) => `*${role[0]!.toUpperCase()}${role.slice(1)}*\n${user ? actorMention(user) : '_nobody yet_'}`),
    ),
    section(
      catchup.lastUpdate
        ? `*Last update* (${slackDate(catchup.lastUpdate.at)}, ${actorMention(catchup.lastUpdate.actor)})\n${toMrkdwn(truncate(catchup.lastUpdate.text, 1500))}`
        : '*Last update*\nNo update posted yet.',
    ),
    section(
      catchup.latest.length > 0
        ? truncate(`*Latest on the timeline*\n${catchup.latest.map(timelineLine).join('\n')}`, 3000)
        : '*Latest on the timeline*\nNothing yet.',
    ),
  ];
  const cause = causeLine(catchup.cause);
  blocks.push(section(`*Linked change*\n${cause ?? 'None linked. `/incident link CHG-n` records the change that caused it.'}`));
  const shown = catchup.followUps.slice(0, listLimit);
  const more = catchup.followUps.length - shown.length;
  blocks.push(
    section(
      shown.length > 0
        ? truncate(
            `*Open follow-ups*\n${shown.map(({ problem, owner }) => `• ${problemKey(problem.number)} ${toMrkdwn(truncate(problem.title, 200))} (${actorMention(owner)})`).join('\n')}${more > 0 ? `\n…and ${more} more` : ''}`,
            3000,
          )
        : '*Open follow-ups*\nNone.',
    ),
    context('Only you see this. `/incident timeline` shows the whole timeline.'),
  );
  return { text: `Catch up on ${key}: ${incident.status}, ${severityLabel(incident.severity)}`, blocks };
}

function causeLine(cause: Catchup['cause']): string | undefined {
  const change = cause.change ? `CHG-${cause.change.number} ${toMrkdwn(truncate(cause.change.title, 200))} (${cause.change.status})` : undefined;
  const deployment = cause.deployment
    ? `deployment to ${toMrkdwn(cause.deployment.environment)} ${slackDate(cause.deployment.finishedAt)}${cause.deployment.commitSha ? ` (\`${cause.deployment.commitSha.slice(0, 12)}\`)` : ''}`
    : undefined;
  if (change && deployment) return `${change}, ${deployment}`;
  return change ?? (deployment ? `A ${deployment}` : undefined);
}
