/** The source of "now" for everything that records or schedules; tests pass their own. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A day of elapsed time, in milliseconds (not a calendar day: see addDays and startOfLocalDay for those). */
export const dayMs = 86_400_000;
/** An hour of elapsed time, in milliseconds. */
export const hourMs = 3_600_000;

export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time of `at` in `timeZone`, as YYYY-MM-DDTHH:mm:ss (no offset). */
export function localDateTime(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}`;
}

/** The calendar date of `at` in `timeZone`, as YYYY-MM-DD. */
export const localDate = (at: Date, timeZone: string) => localDateTime(at, timeZone).slice(0, 10);

/** The calendar date of `at` in `timeZone`, as YYYYMMDD. */
export const compactDate = (at: Date, timeZone: string) => localDate(at, timeZone).replaceAll('-', '');

/** How far `timeZone`'s wall clock is ahead of UTC at `at`, in milliseconds. */
function zoneOffsetMs(at: Date, timeZone: string): number {
  const wallClock = Date.parse(`${localDateTime(at, timeZone)}Z`);
  return wallClock - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant a calendar day (YYYY-MM-DD) begins in `timeZone`, DST included. */
export function startOfLocalDay(date: string, timeZone: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const midnightAsUtc = Date.UTC(year, month - 1, day);
  let instant = midnightAsUtc - zoneOffsetMs(new Date(midnightAsUtc), timeZone);
  // Near a DST change the offset at the guess differs from the offset at the answer.
  instant = midnightAsUtc - zoneOffsetMs(new Date(instant), timeZone);
  return new Date(instant);
}

/** YYYY-MM-DD plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** "2h 5m", "45s", "3d 4h": the two largest units, for durations shown to people. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [label, size] of units) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${amount}${label}`);
    if (parts.length === 2) break;
  }
  const shown = parts.filter((part, index) => index === 0 || !part.startsWith('0'));
  return shown.length > 0 ? shown.join(' ') : '0s';
}
