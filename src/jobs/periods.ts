import { CronExpressionParser } from 'cron-parser';
import type { Database } from '../db/client';
import { scheduledRuns } from '../db/schema';
import { type Clock, isTimeZone, localDateTime } from '../time';

/**
 * Periods of recurring schedules, and claiming them exactly once across instances.
 * A period is named by the most recent time its schedule fired; every instance
 * ticks, and the one whose transaction inserts the period's row does the work.
 */

export interface CronSchedule {
  /** Five fields (minute hour day month weekday), or six with seconds first. */
  cron: string;
  /** IANA time zone the fields are read in. */
  timeZone: string;
}

export interface Period {
  /** The fire time as wall-clock time in the schedule's zone. A time repeated when clocks go back is one period. */
  key: string;
  at: Date;
}

const example = '`0 9 * * 1` (Mondays at 09:00)';
/** Scheduled posts to people are at most hourly: a schedule that fires more often is a typo, not a wish. */
const minimumGapMs = 60 * 60_000;
/** A fixed start for probing how often a schedule fires, so validation does not depend on the day it runs. */
const probeFrom = new Date('2026-01-05T00:00:00Z');

/** What is wrong with a schedule, in words a person can act on; undefined when it is fine. */
export function scheduleProblem(schedule: CronSchedule): string | undefined {
  const fields = schedule.cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    return `A schedule has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; \`${schedule.cron}\` has ${fields.length}. For example ${example}.`;
  }
  if (!isTimeZone(schedule.timeZone)) {
    return `\`${schedule.timeZone}\` is not a time zone. Use an IANA name such as Europe/Berlin, America/New_York or UTC.`;
  }
  let fires: Date[];
  try {
    const iterator = CronExpressionParser.parse(fields.join(' '), { currentDate: probeFrom, tz: schedule.timeZone });
    fires = Array.from({ length: 12 }, () => iterator.next().toDate());
  } catch (error) {
    return `\`${schedule.cron}\` is not a valid schedule (${(error as Error).message}). For example ${example}.`;
  }
  const gaps = fires.slice(1).map((fire, index) => fire.getTime() - fires[index]!.getTime());
  if (Math.min(...gaps) < minimumGapMs) {
    return `\`${schedule.cron}\` fires more than once an hour; scheduled posts go out at most hourly. For example ${example}.`;
  }
  return undefined;
}

/** The most recent time the schedule fired at or before `now`; undefined when it has not fired in the last years. */
export function latestPeriod(schedule: CronSchedule, now: Date): Period | undefined {
  try {
    const iterator = CronExpressionParser.parse(schedule.cron.trim(), {
      // prev() looks strictly before currentDate; a fire at exactly `now` belongs to now.
      currentDate: new Date(now.getTime() + 1),
      tz: schedule.timeZone,
    });
    const at = iterator.prev().toDate();
    return { key: localDateTime(at, schedule.timeZone), at };
  } catch {
    return undefined;
  }
}

/** The `count` times the schedule fired before `at`, newest first. */
export function firesBefore(schedule: CronSchedule, at: Date, count: number): Date[] {
  const iterator = CronExpressionParser.parse(schedule.cron.trim(), { currentDate: at, tz: schedule.timeZone });
  return Array.from({ length: count }, () => iterator.prev().toDate());
}

/** The next time the schedule fires after `now`. */
export function nextFire(schedule: CronSchedule, now: Date): Date | undefined {
  try {
    return CronExpressionParser.parse(schedule.cron.trim(), { currentDate: now, tz: schedule.timeZone }).next().toDate();
  } catch {
    return undefined;
  }
}

/**
 * Claims periods of jobs for the caller; returns the jobs whose period it won. Each
 * period is won by exactly one caller across all instances. Call it inside the
 * transaction that does the periods' work, so a run that fails leaves them to the next tick.
 */
export async function claimPeriods(tx: Database, clock: Clock, claims: ReadonlyArray<{ job: string; period: Period }>): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const claimedAt = clock.now();
  const won = await tx
    .insert(scheduledRuns)
    .values(claims.map(({ job, period }) => ({ job, period: period.key, periodAt: period.at, claimedAt })))
    .onConflictDoNothing()
    .returning({ job: scheduledRuns.job });
  return new Set(won.map((row) => row.job));
}
