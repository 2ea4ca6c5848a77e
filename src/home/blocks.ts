import { changeActionIds, changeReference } from '../changes/blocks';
import { calendarBlocks } from '../changes/module';
import type { BoardColumn } from '../changes/store';
import type { ChangeRow } from '../db/schema';
import { incidentKey, severityLabel } from '../incidents/model';
import { kpiLines } from '../metrics/blocks';
import { actions, type Block, button, context, divider, header, section } from '../slack/blocks';
import { actorMention, toMrkdwn, toPlainText, truncate } from '../slack/text';
import type { HomeData } from './service';

/** The App Home view: the viewer's approvals, the sprint's change board, open incidents, KPIs. */

/** Slack allows 100 blocks in a Home view; each part keeps to its share of them. */
const shown = { approvals: 8, incidents: 10 } as const;

const columnTitles: Record<BoardColumn, string> = {
  requested: '⏳ Requested',
  approved: '✅ Approved',
  deployed: '🚀 Deployed',
  succeeded: '🏁 Succeeded',
  failed: '💥 Failed',
};

export function homeView(data: HomeData, notice?: string): { type: 'home'; blocks: Block[] } {
  const blocks: Block[] = [header('Tandem')];
  if (notice) blocks.push(section(notice));
  blocks.push(...approvalBlocks(data), divider(), ...boardBlocks(data), divider(), ...incidentBlocks(data));
  // The calendar keeps to 10 of the Home's 100 blocks, whatever is planned.
  if (data.calendar) blocks.push(divider(), ...calendarBlocks(data.calendar, 10, { title: false }));
  if (data.kpis.length > 0) blocks.push(divider(), ...kpiBlocks(data));
  blocks.push(context('`/tandem help` lists every command. This page refreshes itself when something here changes.'));
  return { type: 'home', blocks: blocks.slice(0, 100) };
}

function approvalBlocks(data: HomeData): Block[] {
  const { total, oldest } = data.pendingApprovals;
  if (total === 0) return [section('*Your approvals*\nNothing waits for your approval.')];
  const blocks: Block[] = [section(`*Your approvals* (${total})`)];
  const listed = oldest.slice(0, shown.approvals);
  for (const change of listed) {
    blocks.push(
      section(`${changeReference(change)}\n${change.service} → ${change.environment} · ${change.type} · requested by ${actorMention(change.requestedBy)}`),
      actions(`home_vote_${change.id}`, [
        button(changeActionIds.approve, 'Approve', change.id, 'primary'),
        button(changeActionIds.reject, 'Reject', change.id, 'danger'),
      ]),
    );
  }
  if (total > listed.length) {
    blocks.push(context(`…and ${total - listed.length} more in the approvals channels. \`/change list\` shows them all.`));
  }
  return blocks;
}

function boardBlocks(data: HomeData): Block[] {
  const scope = data.services.length > 0 ? data.services.join(', ') : 'all services';
  const columns = (Object.keys(columnTitles) as BoardColumn[]).map((column) => {
    const { total, latest } = data.board[column];
    const lines = latest.map((change) => `• ${cardText(change)}`);
    if (total > latest.length) lines.push(`…and ${total - latest.length} more`);
    return section(truncate(`*${columnTitles[column]}* (${total})\n${lines.join('\n') || '_none_'}`, 3000));
  });
  const sprints = data.sprints.length === 1 ? `sprint of ${data.sprints[0]}` : 'current sprints';
  return [section(`*Change board* · ${sprints} · ${scope}`), ...columns];
}

function cardText(change: ChangeRow): string {
  return `${changeReference(change)} · ${change.service}`;
}

function incidentBlocks(data: HomeData): Block[] {
  const { total, latest, hiddenPrivate } = data.openIncidents;
  if (total === 0) return [section('*Open incidents*\nNone. 🎉')];
  const listed = latest.slice(0, shown.incidents);
  const lines = listed.map(
    (incident) =>
      `• *${incidentKey(incident.number)}*${incident.private ? ' 🔒' : ''} ${toMrkdwn(toPlainText(incident.title))} · ${severityLabel(incident.severity)} · ${incident.status}${
        incident.channelId ? ` · <#${incident.channelId}>` : ''
      }`,
  );
  const more = total - hiddenPrivate - listed.length;
  if (more > 0) lines.push(`…and ${more} more`);
  // Private incidents are counted, never described: their title and channel stay inside their channel.
  if (hiddenPrivate > 0) {
    const one = hiddenPrivate === 1;
    lines.push(`🔒 ${hiddenPrivate} private ${one ? 'incident, shown only to the people in its channel' : 'incidents, shown only to the people in their channels'}`);
  }
  return [section(truncate(`*Open incidents* (${total})\n${lines.join('\n')}`, 3000))];
}

function kpiBlocks(data: HomeData): Block[] {
  const blocks: Block[] = [section('*Your services, last 30 days*')];
  for (const kpis of data.kpis) blocks.push(section(truncate(`*${kpis.service}*\n${kpiLines(kpis).join('\n')}`, 3000)));
  if (data.services.length > data.kpis.length) {
    blocks.push(context(`\`/tandem kpis <service>\` for ${data.services.slice(data.kpis.length).join(', ')}.`));
  }
  return blocks;
}
