import type { Catalog, FreezeWindow } from '../catalog';
import { parseDateTime } from '../fields';
import { addDays, localDateTime, startOfLocalDay } from '../time';

/**
 * Planned windows, pure: reading `window=<start>/<end>` from a command, and which
 * windows overlap. Windows are half-open, [start, end): one ending at 16:00 and
 * another starting at 16:00 do not overlap.
 */

export interface PlannedWindow {
  start: Date;
  end: Date;
}

export const windowSyntax = '`window=2026-12-03T14:00/2026-12-03T16:00` (ISO 8601; without an offset the times are in your Slack time zone; `Z` or `+01:00` set one)';

const localPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** A wall-clock date-time (no offset) in `timeZone` as an instant, DST included; undefined when it is not one. */
export function localToInstant(text: string, timeZone: string): Date | undefined {
  const match = localPattern.exec(text);
  if (!match) return undefined;
  // Checked as if it were UTC: real dates and times only (no 2026-02-30, no 25:00).
  const checked = parseDateTime(`${text.length === 16 ? `${text}:00` : text}Z`);
  if (!checked) return undefined;
  const wall = checked.getTime();
  const offsetAt = (at: number) => Date.parse(`${localDateTime(new Date(at), timeZone)}Z`) - Math.floor(at / 1000) * 1000;
  let instant = wall - offsetAt(wall);
  instant = wall - offsetAt(instant);
  return new Date(instant);
}

/** One bound: with an offset as written, otherwise in `timeZone`. */
function readBound(text: string, timeZone: string): Date | undefined {
  return /(?:Z|[+-]\d{2}:\d{2})$/.test(text) ? parseDateTime(text) : localToInstant(text, timeZone);
}

/** `<start>/<end>` → the window, or a sentence saying what is wrong with it. */
export function parseWindow(text: string, timeZone: string): PlannedWindow | { problem: string } {
  const parts = text.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { problem: `\`window=${text}\` needs a start and an end separated by /, such as ${windowSyntax}.` };
  const start = readBound(parts[0], timeZone);
  const end = readBound(parts[1], timeZone);
  if (!start) return { problem: `\`${parts[0]}\` is not a date-time; write ${windowSyntax}.` };
  if (!end) return { problem: `\`${parts[1]}\` is not a date-time; write ${windowSyntax}.` };
  if (end <= start) return { problem: `The window ends (${parts[1]}) before or when it starts (${parts[0]}); the end must be after the start.` };
  return { start, end };
}

/** Half-open overlap: touching windows do not overlap. */
export const overlaps = (a: PlannedWindow, b: PlannedWindow) => a.start < b.end && b.start < a.end;

/** A freeze window's bounds as instants: dates are whole days in `timeZone`, date-times as written. */
export function freezeBounds(window: FreezeWindow, timeZone: string): PlannedWindow {
  // The catalog is read once, so its few freeze windows are worked out once per zone, not on every request.
  const key = `${window.from}|${window.to}|${timeZone}`;
  let bounds = knownBounds.get(key);
  if (!bounds) {
    bounds = boundsOf(window, timeZone);
    if (knownBounds.size > 1000) knownBounds.clear();
    knownBounds.set(key, bounds);
  }
  return bounds;
}

const knownBounds = new Map<string, PlannedWindow>();

function boundsOf(window: FreezeWindow, timeZone: string): PlannedWindow {
  return {
    start: window.from.includes('T') ? new Date(window.from) : startOfLocalDay(window.from, timeZone),
    end: window.to.includes('T') ? new Date(window.to) : startOfLocalDay(addDays(window.to, 1), timeZone),
  };
}

/** The catalog's freeze windows that apply to `service` (or to any service, without one). */
export function freezesOf(catalog: Catalog, service?: string): FreezeWindow[] {
  return catalog.freeze.filter((window) => !service || window.services.includes('*') || window.services.includes(service));
}

/** The freeze windows of a service overlapping `planned`. */
export function overlappingFreezes(catalog: Catalog, service: string, planned: PlannedWindow, timeZone: string): FreezeWindow[] {
  return freezesOf(catalog, service).filter((window) => overlaps(freezeBounds(window, timeZone), planned));
}

/** The change's window, when it has a whole one. */
export function windowOf(change: { plannedStart: Date | null; plannedEnd: Date | null }): PlannedWindow | undefined {
  return change.plannedStart && change.plannedEnd ? { start: change.plannedStart, end: change.plannedEnd } : undefined;
}

/** `2026-12-03 14:00–16:00 UTC`, or with both dates when it spans days: times in API and stored messages are UTC. */
export function describeWindow(window: PlannedWindow): string {
  const start = window.start.toISOString().slice(0, 16).replace('T', ' ');
  const end = window.end.toISOString().slice(0, 16).replace('T', ' ');
  return `${start}–${start.slice(0, 10) === end.slice(0, 10) ? end.slice(11) : end} UTC`;
}
