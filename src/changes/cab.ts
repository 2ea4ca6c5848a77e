import { z } from 'zod';
import type { CabSettings } from '../catalog';
import type { ChangeRow } from '../db/schema';
import { claimPeriods, latestPeriod } from '../jobs/periods';
import { actions, type Block, button, context, divider, header, type Message, section } from '../slack/blocks';
import { outboxTopic } from '../slack/outbox-topic';
import { actorMention, slackDate, toMrkdwn, truncate } from '../slack/text';
import { unitOfWork } from '../unit-of-work';
import { changeActionIds, changeReference } from './blocks';
import type { ChangeDeps } from './deps';
import * as store from './store';

/**
 * The change advisory board's agenda: with the catalog's `cab`, once per period of
 * its schedule, pending normal changes (oldest first, with their conflicts and the
 * vote buttons) and emergency changes awaiting their retrospective review.
 */

export const cabJob = 'cab-agenda';
const cabTopic = outboxTopic('change.cab_agenda', z.string());

/** Listed changes of each part; a message holds 50 blocks, and each pending change takes two. */
const agendaLimits = { pending: 18, reviews: 10 } as const;

type Listed = { total: number; oldest: ChangeRow[] };

function pendingBlocks(change: ChangeRow): Block[] {
  const planned = change.plannedStart && change.plannedEnd ? ` · 🗓 ${slackDate(change.plannedStart)} → ${slackDate(change.plannedEnd)}` : ' · as soon as approved';
  const conflicts = change.conflicts.length > 0 ? `\n⚠️ ${toMrkdwn(change.conflicts.map((conflict) => conflict.message).join('; '))}` : '';
  return [
    section(
      truncate(`${changeReference(change)}\n${change.service} → ${change.environment} · ${change.risk} risk · requested by ${actorMention(change.requestedBy)} ${slackDate(change.requestedAt, '{date_short}')}${planned}${conflicts}`, 3000),
    ),
    actions(`cab_vote_${change.id}`, [
      button(changeActionIds.approve, 'Approve', change.id, 'primary'),
      button(changeActionIds.reject, 'Reject', change.id, 'danger'),
    ]),
  ];
}

/** The agenda: at most 50 blocks however many changes wait. */
export function cabAgenda(pending: Listed, reviews: Listed, at: Date): Message {
  const blocks: Block[] = [header('Change advisory board: agenda'), context(`As of ${slackDate(at)}`), section(`*Pending normal changes* (${pending.total}), oldest first`)];
  if (pending.total === 0) blocks.push(context('Nothing waits for approval.'));
  const listed = pending.oldest.slice(0, agendaLimits.pending);
  for (const change of listed) blocks.push(...pendingBlocks(change));
  if (pending.total > listed.length) blocks.push(context(`…and ${pending.total - listed.length} more: \`/change list\` shows them.`));
  blocks.push(divider(), section(`*Emergency changes awaiting review* (${reviews.total})`));
  const reviewed = reviews.oldest.slice(0, agendaLimits.reviews);
  const lines = reviewed.map((change) => `• ${changeReference(change)} · ${change.service} · ${slackDate(change.requestedAt, '{date_short}')}: ${toMrkdwn(truncate(change.justification ?? '', 200))}`);
  if (reviews.total > reviewed.length) lines.push(`…and ${reviews.total - reviewed.length} more`);
  blocks.push(reviews.total === 0 ? context('No emergency change awaits review.') : section(truncate(lines.join('\n'), 3000)), context('Sign a review off with `/change reviewed CHG-n`.'));
  return { text: `CAB agenda: ${pending.total} pending normal change${pending.total === 1 ? '' : 's'}, ${reviews.total} emergency change${reviews.total === 1 ? '' : 's'} awaiting review`, blocks: blocks.slice(0, 50) };
}

/** Posts the agenda once per period of `cab.cron`, across instances and restarts; a missed period is posted on the next tick. */
export async function postCabAgenda(deps: ChangeDeps, cab: CabSettings | undefined = deps.catalog.cab): Promise<boolean> {
  if (!cab) return false;
  const now = deps.clock.now();
  const period = latestPeriod({ cron: cab.cron, timeZone: cab.timezone ?? deps.timeZone }, now);
  if (!period) return false;
  return unitOfWork(deps, async ({ tx, send }) => {
    const won = await claimPeriods(tx, deps.clock, [{ job: cabJob, period }]);
    if (!won.has(cabJob)) return false;
    const pending = await store.pendingNormalChanges(tx, agendaLimits.pending);
    const reviews = await store.changesAwaitingReview(tx, agendaLimits.reviews);
    const agenda = cabAgenda(pending, reviews, now);
    await send([cabTopic.message(period.key, { method: 'chat.postMessage', args: { channel: cab.channel, ...agenda, unfurl_links: false }, dedupKey: `${cabJob}:${period.key}` })]);
    return true;
  });
}
