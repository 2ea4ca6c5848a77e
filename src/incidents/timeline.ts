import type { IncidentEventRow, IncidentMessageRow } from '../db/schema';

/** Pure rules of the timeline built from the channel: message entries, ordering, pages. */

export const messageTextUnavailable = '(message text not available)';
export const messageDeleted = '(message deleted)';

/** A message entry's `data`: where it is and what became of it. */
export interface MessageEntryData extends Record<string, unknown> {
  ts: string;
  permalink: string | null;
  thread_ts: string | null;
  edited_at: string | null;
  deleted: boolean;
  text_available: boolean;
}

/** Slack's message ts (`1700000001.000200`) is its time in seconds with microseconds. */
export function tsToDate(ts: string): Date {
  const [seconds = '0', micros = '0'] = ts.split('.');
  return new Date(Number(seconds) * 1000 + Math.floor(Number(micros.padEnd(6, '0').slice(0, 6)) / 1000));
}

/** A pinned or marked message as a timeline entry: at its own time, by its author. */
export function messageEntry(message: IncidentMessageRow): IncidentEventRow {
  const data: MessageEntryData = {
    ts: message.ts,
    permalink: message.permalink,
    thread_ts: message.threadTs,
    edited_at: message.editedAt?.toISOString() ?? null,
    deleted: message.deletedAt !== null,
    text_available: message.text !== null,
  };
  return {
    id: 0,
    incidentId: message.incidentId,
    at: message.postedAt,
    actor: message.user ?? 'unknown',
    kind: 'message',
    text: message.deletedAt ? messageDeleted : (message.text ?? messageTextUnavailable),
    data,
  };
}

/** Both lists are oldest first; the merge keeps that, events before messages at the same instant. */
export function mergeTimeline(events: IncidentEventRow[], messages: IncidentEventRow[]): IncidentEventRow[] {
  const merged: IncidentEventRow[] = [];
  let m = 0;
  for (const event of events) {
    while (m < messages.length && messages[m]!.at.getTime() < event.at.getTime()) merged.push(messages[m++]!);
    merged.push(event);
  }
  while (m < messages.length) merged.push(messages[m++]!);
  return merged;
}

export const timelinePageSize = 20;

/**
 * Page 1 is the newest `size` entries, page 2 the ones before, and so on; each page
 * reads oldest first. A page past the end shows the oldest one.
 */
export function timelinePage<T>(entries: T[], page: number, size = timelinePageSize): { entries: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(entries.length / size));
  const shown = Math.min(Math.max(1, Math.floor(page)), pages);
  const end = entries.length - (shown - 1) * size;
  return { entries: entries.slice(Math.max(0, end - size), end), page: shown, pages };
}

/** The reaction's name without a skin tone (`pushpin::skin-tone-2` is `pushpin`). */
export const reactionName = (reaction: string) => reaction.split('::')[0] ?? reaction;

export const pinMark = 'pin';
export const reactionMark = (user: string) => `reaction:${user}`;
