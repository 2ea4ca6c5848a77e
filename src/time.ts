/** The source of "now" for everything that records or schedules; tests pass their own. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The calendar date of `at` in `timeZone`, as YYYYMMDD. */
export function compactDate(at: Date, timeZone: string): string {
  return localDateTime(at, timeZone).slice(0, 10).replaceAll('-', '');
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
