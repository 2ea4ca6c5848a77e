import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IncidentRow } from '../../src/db/schema';
import { parseIncidentCommand } from '../../src/incidents/model';
import { dueReminders } from '../../src/incidents/reminders';

const minute = 60_000;
const declaredAt = new Date('2026-11-23T09:00:00Z');
const incident = (patch: Partial<IncidentRow> = {}) =>
  ({ id: '00000000-0000-4000-8000-000000000001', status: 'investigating', severity: 1, commander: 'U0ALICE', channelId: 'C0INC', declaredAt, ...patch }) as IncidentRow;
const state = (patch: { incident?: Partial<IncidentRow>; lastUpdateAt?: Date; snoozedUntil?: Date | null; monitoringSince?: Date | null } = {}) => ({
  incident: incident(patch.incident),
  lastUpdateAt: patch.lastUpdateAt ?? declaredAt,
  snoozedUntil: patch.snoozedUntil ?? null,
  monitoringSince: patch.monitoringSince ?? null,
});
const every = { 1: 30, 2: 60, 3: 240 };
const after = (minutes: number) => new Date(declaredAt.getTime() + minutes * minute);

describe('which reminders are due', () => {
  it('asks for a commander from ten minutes after declaration, as one period', () => {
    const noCommander = state({ incident: { commander: null, severity: 4 } });
    expect(dueReminders(noCommander, every, after(9.99))).toEqual([]);
    const due = dueReminders(noCommander, every, after(10));
    expect(due.map((reminder) => [reminder.kind, reminder.period.key])).toEqual([['commander', 'declared+10m']]);
    expect(dueReminders(noCommander, every, after(600))[0]!.period.key).toBe('declared+10m');
  });

  it('names the update reminder’s period by its due time, one per interval', () => {
    const keys = [29, 30, 45, 59, 60, 61].map((minutes) => dueReminders(state(), every, after(minutes)).map((reminder) => reminder.period.key));
    expect(keys).toEqual([
      [],
      ['2026-11-23T09:30:00.000Z'],
      ['2026-11-23T09:30:00.000Z'],
      ['2026-11-23T09:30:00.000Z'],
      ['2026-11-23T10:00:00.000Z'],
      ['2026-11-23T10:00:00.000Z'],
    ]);
  });

  it('waits for a snooze that ends after the interval, then counts intervals from its end', () => {
    const snoozed = state({ snoozedUntil: after(91) });
    expect(dueReminders(snoozed, every, after(90))).toEqual([]);
    expect(dueReminders(snoozed, every, after(91))[0]!.period.at).toEqual(after(91));
    expect(dueReminders(snoozed, every, after(121))[0]!.period.at).toEqual(after(121));
    // A snooze that ended before the last update's interval changes nothing.
    expect(dueReminders(state({ lastUpdateAt: after(60), snoozedUntil: after(50) }), every, after(90))[0]!.period.at).toEqual(after(90));
  });

  it('never reminds a severity without an interval, a resolved incident or one without a channel', () => {
    expect(dueReminders(state({ incident: { severity: 4 } }), every, after(10_000))).toEqual([]);
    expect(dueReminders(state({ incident: { status: 'resolved', commander: null } }), every, after(10_000))).toEqual([]);
    expect(dueReminders(state({ incident: { channelId: null, commander: null } }), every, after(10_000))).toEqual([]);
  });

  it('asks about monitoring once a day from 24 hours in', () => {
    const monitoring = state({ incident: { status: 'monitoring', severity: 4 }, monitoringSince: after(5) });
    expect(dueReminders(monitoring, every, after(5 + 24 * 60 - 1))).toEqual([]);
    expect(dueReminders(monitoring, every, after(5 + 24 * 60)).map((reminder) => reminder.kind)).toEqual(['monitoring']);
    expect(dueReminders(monitoring, every, after(5 + 47 * 60))[0]!.period.at).toEqual(after(5 + 24 * 60));
    expect(dueReminders(monitoring, every, after(5 + 48 * 60))[0]!.period.at).toEqual(after(5 + 48 * 60));
  });

  it('never names a period after now or before its first due time, and names one per interval', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), (interval, update, now) => {
        const due = dueReminders(state({ incident: { severity: 2 }, lastUpdateAt: after(update) }), { 2: interval }, after(now));
        const first = update + interval;
        if (now < first) return due.length === 0;
        const at = due[0]!.period.at.getTime();
        return at <= after(now).getTime() && at >= after(first).getTime() && after(now).getTime() - at < interval * minute;
      }),
    );
  });
});

describe('/incident role', () => {
  it('reads a role and one person', () => {
    expect(parseIncidentCommand('role comms <@U0BOB|bob>')).toEqual({ kind: 'role', role: 'comms', user: 'U0BOB' });
    expect(parseIncidentCommand('role Scribe me')).toEqual({ kind: 'role', role: 'scribe', user: 'me' });
    for (const text of ['role', 'role comms', 'role comms bob', 'role <@U0BOB>', 'role comms <@U0BOB> <@U0ALICE>']) {
      expect(parseIncidentCommand(text)).toMatchObject({ kind: 'invalid', message: expect.stringContaining('`/incident role` takes a role and one person') });
    }
  });
});
