import { changeActionIds, changeReference } from '../changes/blocks';
import type { ChangeRow } from '../db/schema';
import { incidentKey, severityLabel } from '../incidents/model';
import { kpiLines } from '../metrics/blocks';
import { actions, type Block, button, context, divider, header, section } from '../slack/blocks';
import { actorMention, toMrkdwn, toPlainText, truncate } from '../slack/text';
import type { HomeData } from './service';
import type { BoardColumn } from './store';

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
  if (data.kpis.length > 0) blocks.push(divider(), ...kpiBlocks(data));
  blocks.push(context('`/tandem help` lists every command. This page refreshes itself when something here changes.'));
  return { type: 'home', blocks: blocks.slice(0, 100) };
}

function approvalBlocks(data: HomeData): Block[] {
  const pending = data.pendingApprovals;
  if (pending.length === 0) return [section('*Your approvals*\nNothing waits for your approval.')];
  const blocks: Block[] = [section(`*Your approvals* (${pending.length})`)];
  for (const change of pending.slice(0, shown.approvals)) {
    blocks.push(
      section(`${changeReference(change)}\n${change.service} → ${change.environment} · ${change.type} · requested by ${actorMention(change.requestedBy)}`),
      actions(`home_vote_${change.id}`, [
        button(changeActionIds.approve, 'Approve', change.id, 'primary'),
        button(changeActionIds.reject, 'Reject', change.id, 'danger'),
      ]),
    );
  }
  if (pending.length > shown.approvals) {
    blocks.push(context(`…and ${pending.length - shown.approvals} more in the approvals channels. \`/change list\` shows them all.`));
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
  if (data.openIncidents.length === 0) return [section('*Open incidents*\nNone. 🎉')];
  const lines = data.openIncidents
    .slice(0, shown.incidents)
    .map(
      (incident) =>
        `• *${incidentKey(incident.number)}* ${toMrkdwn(toPlainText(incident.title))} · ${severityLabel(incident.severity)} · ${incident.status}${
          incident.channelId ? ` · <#${incident.channelId}>` : ''
        }`,
    );
  return [section(truncate(`*Open incidents*\n${lines.join('\n')}`, 3000))];
}

function kpiBlocks(data: HomeData): Block[] {
  const blocks: Block[] = [section('*Your services, last 30 days*')];
  for (const kpis of data.kpis) blocks.push(section(truncate(`*${kpis.service}*\n${kpiLines(kpis).join('\n')}`, 3000)));
  if (data.services.length > data.kpis.length) {
    blocks.push(context(`\`/tandem kpis <service>\` for ${data.services.slice(data.kpis.length).join(', ')}.`));
  }
  return blocks;
}
