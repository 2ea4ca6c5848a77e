import { afterEach, beforeEach, describe, expect, it, inject } from 'vitest';
import { claimPeriods, latestPeriod, nextFire, scheduleProblem } from '../../src/jobs/periods';
import { TestClock } from '../support/clock';
import { createTestDatabase, type TestDatabase } from '../support/database';

const mondays = (timeZone: string) => ({ cron: '0 9 * * 1', timeZone });

describe('schedules', () => {
  it('accepts five fields, or six with seconds, in an IANA time zone', () => {
    expect(scheduleProblem(mondays('Europe/Berlin'))).toBeUndefined();
    expect(scheduleProblem({ cron: '30 0 9 * * mon-fri', timeZone: 'America/New_York' })).toBeUndefined();
    expect(scheduleProblem({ cron: ' 0  9 * * 1 ', timeZone: 'UTC' })).toBeUndefined();
  });

  it('says what is wrong with a schedule and what would work', () => {
    expect(scheduleProblem({ cron: '0 9 * *', timeZone: 'UTC' })).toBe(
      'A schedule has 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; `0 9 * *` has 4. For example `0 9 * * 1` (Mondays at 09:00).',
    );
    expect(scheduleProblem({ cron: '0 0 0 9 * * 1', timeZone: 'UTC' })).toContain('has 7');
    expect(scheduleProblem({ cron: '@weekly', timeZone: 'UTC' })).toContain('has 1');
    expect(scheduleProblem({ cron: '61 9 * * 1', timeZone: 'UTC' })).toMatch(/^`61 9 \* \* 1` is not a valid schedule \(.*61.*\)\. For example/);
    expect(scheduleProblem({ cron: '0 9 30 2 *', timeZone: 'UTC' })).toContain('is not a valid schedule');
    expect(scheduleProblem({ cron: '0 9 * * 1', timeZone: 'Europe/Berln' })).toBe(
      '`Europe/Berln` is not a time zone. Use an IANA name such as Europe/Berlin, America/New_York or UTC.',
    );
    expect(scheduleProblem({ cron: '*/5 * * * *', timeZone: 'UTC' })).toBe(
      '`*/5 * * * *` fires more than once an hour; scheduled posts go out at most hourly. For example `0 9 * * 1` (Mondays at 09:00).',
    );
  });
});

describe('periods', () => {
  it('names the latest fire time at or before now, in wall-clock time of the zone', () => {
    const schedule = mondays('Europe/Berlin');
    expect(latestPeriod(schedule, new Date('2026-11-23T08:00:00Z'))).toEqual({ key: '2026-11-23T09:00:00', at: new Date('2026-11-23T08:00:00Z') });
    expect(latestPeriod(schedule, new Date('2026-11-23T07:59:59Z'))?.key).toBe('2026-11-16T09:00:00');
    expect(latestPeriod(schedule, new Date('2026-11-29T23:00:00Z'))?.key).toBe('2026-11-23T09:00:00');
    expect(nextFire(schedule, new Date('2026-11-23T08:00:00Z'))).toEqual(new Date('2026-11-30T08:00:00Z'));
  });

  it('keeps 09:00 at 09:00 local time across daylight saving changes', () => {
    const berlin = mondays('Europe/Berlin');
    // Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
    expect(latestPeriod(berlin, new Date('2026-03-28T12:00:00Z'))?.at).toEqual(new Date('2026-03-23T08:00:00Z'));
    expect(latestPeriod(berlin, new Date('2026-03-30T12:00:00Z'))?.at).toEqual(new Date('2026-03-30T07:00:00Z'));
    expect(latestPeriod(berlin, new Date('2026-10-26T12:00:00Z'))?.at).toEqual(new Date('2026-10-26T08:00:00Z'));
    const newYork = mondays('America/New_York');
    expect(latestPeriod(newYork, new Date('2026-03-09T13:00:00Z'))?.at).toEqual(new Date('2026-03-09T13:00:00Z'));
    expect(latestPeriod(newYork, new Date('2026-03-09T12:59:00Z'))?.key).toBe('2026-03-02T09:00:00');
  });

  it('counts a wall-clock time that happens twice when clocks go back as one period', () => {
    const nightly = { cron: '30 2 * * *', timeZone: 'Europe/Berlin' };
    const first = latestPeriod(nightly, new Date('2026-10-25T00:45:00Z'));
    const second = latestPeriod(nightly, new Date('2026-10-25T01:45:00Z'));
    expect(first?.at).not.toEqual(second?.at);
    expect(first?.key).toBe('2026-10-25T02:30:00');
    expect(second?.key).toBe(first?.key);
  });
});

describe('claiming periods', () => {
  let database: TestDatabase;
  const clock = new TestClock();
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(() => database.drop());

  const period = latestPeriod(mondays('UTC'), new Date('2026-11-23T09:00:00Z'))!;

  it('lets one caller win each period of a job', async () => {
    const { db } = database.handle;
    expect(await claimPeriods(db, clock, [{ job: 'a', period }, { job: 'b', period }])).toEqual(new Set(['a', 'b']));
    expect(await claimPeriods(db, clock, [{ job: 'a', period }, { job: 'c', period }])).toEqual(new Set(['c']));
    const next = latestPeriod(mondays('UTC'), new Date('2026-11-30T09:00:00Z'))!;
    expect(await claimPeriods(db, clock, [{ job: 'a', period: next }])).toEqual(new Set(['a']));
  });

  it('leaves the period unclaimed when the work in its transaction fails', async () => {
    const { db } = database.handle;
    await expect(
      db.transaction(async (tx) => {
        await claimPeriods(tx, clock, [{ job: 'a', period }]);
        throw new Error('posting failed');
      }),
    ).rejects.toThrow('posting failed');
    expect(await claimPeriods(db, clock, [{ job: 'a', period }])).toEqual(new Set(['a']));
  });

  it.skipIf(!inject('postgres'))('gives a period to exactly one of many concurrent instances', async () => {
    const pools = [database.handle, await database.openAnother(), await database.openAnother()];
    const attempts = Array.from({ length: 12 }, (_, index) =>
      pools[index % pools.length]!.db.transaction(async (tx) => {
        const won = await claimPeriods(tx, clock, [{ job: 'digest', period }]);
        await new Promise((resolve) => setTimeout(resolve, 20));
        return won.size;
      }),
    );
    expect((await Promise.all(attempts)).reduce((sum, won) => sum + won, 0)).toBe(1);
  });
});
