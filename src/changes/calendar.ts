import type { Catalog, FreezeWindow } from '../catalog';
import type { Database } from '../db/client';
import type { ChangeRow } from '../db/schema';
import { type Block, context, header, section } from '../slack/blocks';
import { slackDate, truncate } from '../slack/text';
import { addDays, localDate, startOfLocalDay } from '../time';
import { changeReference } from './blocks';
import * as store from './store';
import { freezeBounds, freezesOf, overlaps } from './windows';

/**
 * The change calendar: the next 14 days of planned changes and freeze windows, per
 * day in the viewer's time zone. `/change calendar` and the App Home show it.
 */

export const calendarDays = 14;
/** Changes listed per day; the rest are counted ("and 12 more"). */
const perDay = 8;

export interface CalendarDay {
  /** YYYY-MM-DD in the viewer's time zone. */
  date: string;
  startsAt: Date;
  changes: ChangeRow[];
  /** How many pending or approved changes are planned that day, listed or not. */
  total: number;
  freezes: FreezeWindow[];
}

export interface ChangeCalendar {
  service?: string;
  timeZone: string;
  days: CalendarDay[];
}

/** Reads the calendar in one query, whatever the number of planned changes. */
export async function gatherCalendar(
  db: Database,
  deps: { catalog: Catalog; timeZone: string },
  params: { now: Date; viewerTimeZone: string; service?: string },
): Promise<ChangeCalendar> {
  const today = localDate(params.now, params.viewerTimeZone);
  const dates = Array.from({ length: calendarDays }, (_, index) => addDays(today, index));
  const bounds = dates.map((date) => ({ date, start: startOfLocalDay(date, params.viewerTimeZone), end: startOfLocalDay(addDays(date, 1), params.viewerTimeZone) }));
  const from = params.now;
  const to = bounds.at(-1)!.end;
  const rows = await store.plannedChangesByDay(db, { from, to, timeZone: params.viewerTimeZone, service: params.service, perDay });
  const freezes = freezesOf(deps.catalog, params.service);
  return {
    service: params.service,
    timeZone: params.viewerTimeZone,
    days: bounds.map(({ date, start, end }) => {
      const ofDay = rows.filter((row) => row.day === date);
      return {
        date,
        startsAt: start,
        changes: ofDay.map((row) => row.change),
        total: ofDay[0]?.total ?? 0,
        freezes: freezes.filter((freeze) => overlaps(freezeBounds(freeze, deps.timeZone), { start: start < from ? from : start, end })),
      };
    }),
  };
}

function dayText(day: CalendarDay): string {
  const lines = [`*${slackDate(day.startsAt, '{date_short_pretty}')}*`];
  for (const freeze of day.freezes) lines.push(`🧊 Freeze ${freeze.from} → ${freeze.to}${freeze.reason ? ` (${freeze.reason})` : ''}${freeze.services.includes('*') ? '' : ` · ${freeze.services.join(', ')}`}`);
  for (const change of day.changes) {
    const when = change.plannedStart && change.plannedEnd ? `${slackDate(change.plannedStart, '{time}')}–${slackDate(change.plannedEnd, '{date_short} {time}')}` : '';
    const flag = change.status === 'approved' ? '✅' : '⏳';
    const conflicts = change.conflicts.length > 0 ? ` · ⚠️ ${change.conflicts.length} conflict${change.conflicts.length === 1 ? '' : 's'}` : '';
    lines.push(`${flag} ${when} ${truncate(changeReference(change), 200)} · ${change.service}${conflicts}`);
  }
  if (day.total > day.changes.length) lines.push(`…and ${day.total - day.changes.length} more`);
  return truncate(lines.join('\n'), 3000);
}

/**
 * The calendar as blocks, at most `maxBlocks` of them (a message allows 50, the Home
 * 100 in all): a title, one section per day with anything on it, and a last line for
 * the days that did not fit.
 */
export function calendarBlocks(calendar: ChangeCalendar, maxBlocks: number, options: { title?: boolean } = {}): Block[] {
  const scope = calendar.service ? ` of ${calendar.service}` : '';
  const blocks: Block[] = [options.title === false ? section(`*🗓 Change calendar${scope}*, next ${calendarDays} days`) : header(`Change calendar${scope}: next ${calendarDays} days`)];
  const busy = calendar.days.filter((day) => day.changes.length > 0 || day.freezes.length > 0);
  if (busy.length === 0) {
    blocks.push(context(`No planned changes or freeze windows${scope} in the next ${calendarDays} days. Plan one with \`window=<start>/<end>\` on \`/change\`.`));
    return blocks;
  }
  const room = Math.max(0, maxBlocks - blocks.length - 1);
  const shown = busy.slice(0, room);
  blocks.push(...shown.map((day) => section(dayText(day))));
  const hidden = busy.length - shown.length;
  blocks.push(context(hidden > 0 ? `…and ${hidden} more day${hidden === 1 ? '' : 's'}: \`/change calendar${scope ? ` ${calendar.service}` : ''}\` shows them.` : `Times are in your time zone (${calendar.timeZone}). Changes without a window go ahead as soon as approved and are not listed.`));
  return blocks;
}
