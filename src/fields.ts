import { z } from 'zod';

/**
 * The shapes of values that cross Tandem's edges (REST bodies and queries, Slack forms
 * and commands, the catalog), defined once: a calendar date, a date-time, a piece of
 * text, a window. Every field built from these refuses the same bad values with the
 * same words, before anything reaches PostgreSQL.
 */

/**
 * The instants Tandem stores. PostgreSQL's own range is wider, but a JavaScript Date
 * past 9999 serialises as `+010000-…` and year 0 does not exist there, both of which
 * PostgreSQL refuses; and nothing Tandem records (a commit, a deployment, a planned
 * change) predates 1970.
 */
const earliest = Date.UTC(1970, 0, 1);
const latest = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const acceptedRange = 'between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z';

const inRange = (instant: number) => instant >= earliest && instant <= latest;

const calendarDateMessage = 'must be a real calendar date written YYYY-MM-DD, such as 2026-11-23';
const calendarDateRangeMessage = 'must be a date between 1970-01-01 and 9999-12-31';
const dateTimeMessage = 'must be an ISO 8601 date-time, such as 2026-11-23T09:00:00Z';
const dateTimeRangeMessage = `must be ${acceptedRange} (an ISO 8601 date-time, such as 2026-11-23T09:00:00Z)`;

type Checked<T> = { value: T } | { problem: string };

/** 2026-02-30 and 2026-13-45 are not dates (JavaScript's Date would roll them over to March and the next year). */
function isRealDate(year: number, month: number, day: number): boolean {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return daysInMonth !== undefined && day >= 1 && day <= daysInMonth;
}

function checkCalendarDate(text: string): Checked<string> {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return { problem: calendarDateMessage };
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (!isRealDate(year, month, day)) return { problem: calendarDateMessage };
  return year >= 1970 ? { value: text } : { problem: calendarDateRangeMessage };
}

const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function checkDateTime(text: string): Checked<Date> {
  const match = dateTimePattern.exec(text);
  if (!match) return { problem: dateTimeMessage };
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = match.slice(1).map((part) => Number(part ?? 0)) as [
    number, number, number, number, number, number, number, number,
  ];
  if (!isRealDate(year, month, day) || hour > 23 || minute > 59 || second > 59 || offsetHour > 23 || offsetMinute > 59) {
    return { problem: dateTimeMessage };
  }
  const instant = new Date(text);
  if (Number.isNaN(instant.getTime())) return { problem: dateTimeMessage };
  return inRange(instant.getTime()) ? { value: instant } : { problem: dateTimeRangeMessage };
}

/** A real calendar date, YYYY-MM-DD, in the range Tandem stores; or undefined. */
export function parseCalendarDate(text: string): string | undefined {
  const checked = checkCalendarDate(text.trim());
  return 'value' in checked ? checked.value : undefined;
}

/** An ISO 8601 date-time with an offset, in the range Tandem stores; or undefined. */
export function parseDateTime(text: string): Date | undefined {
  const checked = checkDateTime(text);
  return 'value' in checked ? checked.value : undefined;
}

/** An instant (a Slack date picker's choice) in the range Tandem stores; or undefined. */
export function storableInstant(instant: Date): Date | undefined {
  return inRange(instant.getTime()) ? instant : undefined;
}

const asSchema = <T>(check: (text: string) => Checked<T>, notText: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : notText) }).transform((text, ctx) => {
    const checked = check(text);
    if ('value' in checked) return checked.value;
    ctx.addIssue({ code: 'custom', message: checked.problem });
    return z.NEVER;
  });

/** `2026-11-23`: a real calendar date, kept as written. */
export const calendarDate = asSchema(checkCalendarDate, calendarDateMessage);

/** `2026-11-23T09:00:00Z` or `…+01:00`: an instant Tandem can store. */
export const dateTime = asSchema(checkDateTime, dateTimeMessage);

/** A date (whole days) or a date-time, kept as written: catalog freeze bounds, report windows. */
export const dateOrDateTime = asSchema((text): Checked<string> => {
  const checked = text.includes('T') ? checkDateTime(text) : checkCalendarDate(text);
  if ('value' in checked) return { value: text };
  return checked.problem === calendarDateMessage || checked.problem === dateTimeMessage
    ? { problem: 'must be a real calendar date (YYYY-MM-DD, such as 2026-11-23) or an ISO 8601 date-time (2026-11-23T09:00:00Z)' }
    : checked;
}, 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time');

/** PostgreSQL cannot hold U+0000 in text: the whole statement fails. */
const nul = '\u0000';
export const nulMessage = 'must not contain NUL characters (\\u0000)';
export const hasNul = (value: string) => value.includes(nul);

/**
 * For text typed in Slack: a NUL cannot be typed or seen there, so it can only come
 * from a broken client; it is dropped rather than refused with a message about an
 * invisible character the person cannot find or remove.
 */
export const withoutNul = (value: string) => (hasNul(value) ? value.replaceAll(nul, '') : value);

/**
 * Every string of a JSON body (keys too) without NUL characters: for alerts, which are
 * recorded rather than refused. Deeper than any field Tandem reads, it stops: zod
 * refuses what is down there anyway.
 */
export function withoutNulDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return withoutNul(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withoutNulDeep(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [withoutNul(key), withoutNulDeep(item, depth + 1)]));
}

const textBase = (requiredMessage: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? requiredMessage : 'must be a string') })
    .trim()
    .refine((value) => !hasNul(value), nulMessage);

/**
 * Required text: trimmed, not blank, no NUL, at most `max` characters.
 * `example` completes "is required" (`(for example production)`).
 */
export function textField(max: number, options: { example?: string } = {}) {
  const required = options.example ? `is required (for example ${options.example})` : 'is required';
  return textBase(required).min(1, required).max(max, `must be at most ${max} characters`);
}

/** Optional text: as `textField`, but blank counts as not given. */
export function optionalTextField(max: number) {
  return textBase('is required')
    .max(max, `must be at most ${max} characters`)
    .optional()
    .transform((value) => (value === '' ? undefined : value));
}

/**
 * A window's two ends are in order: the end is not before the start (equal is a
 * window of no length). An end that is not given leaves the window open. Dates compare
 * as instants, YYYY-MM-DD calendar dates as text.
 */
export function inOrder<T extends Date | string>(start: T | undefined, end: T | undefined): boolean {
  return start === undefined || end === undefined || start <= end;
}
