import { describe, expect, it } from 'vitest';
import { parseChangeCommand } from '../../src/changes/model';
import { localToInstant, overlaps, parseWindow } from '../../src/changes/windows';

const at = (iso: string) => new Date(iso);

describe('planned windows', () => {
  it('are half-open: touching windows do not overlap, one minute of overlap does', () => {
    const a = { start: at('2026-12-03T14:00:00Z'), end: at('2026-12-03T16:00:00Z') };
    expect(overlaps(a, { start: at('2026-12-03T16:00:00Z'), end: at('2026-12-03T17:00:00Z') })).toBe(false);
    expect(overlaps(a, { start: at('2026-12-03T13:00:00Z'), end: at('2026-12-03T14:00:00Z') })).toBe(false);
    expect(overlaps(a, { start: at('2026-12-03T15:59:00Z'), end: at('2026-12-03T17:00:00Z') })).toBe(true);
    expect(overlaps(a, { start: at('2026-12-03T14:30:00Z'), end: at('2026-12-03T15:00:00Z') })).toBe(true);
  });

  it('read times without an offset in the given zone, across daylight saving changes', () => {
    expect(localToInstant('2026-12-03T14:00', 'Europe/Berlin')).toEqual(at('2026-12-03T13:00:00Z'));
    expect(localToInstant('2026-07-03T14:00', 'Europe/Berlin')).toEqual(at('2026-07-03T12:00:00Z'));
    expect(localToInstant('2026-03-29T03:30', 'Europe/Berlin')).toEqual(at('2026-03-29T01:30:00Z'));
    expect(localToInstant('2026-12-03T14:00', 'America/New_York')).toEqual(at('2026-12-03T19:00:00Z'));
    expect(localToInstant('2026-02-30T14:00', 'UTC')).toBeUndefined();
  });

  it('parse `<start>/<end>`, with offsets as written', () => {
    expect(parseWindow('2026-12-03T14:00/2026-12-03T16:00', 'Europe/Berlin')).toEqual({ start: at('2026-12-03T13:00:00Z'), end: at('2026-12-03T15:00:00Z') });
    expect(parseWindow('2026-12-03T14:00Z/2026-12-03T16:00+01:00', 'America/New_York')).toEqual({ start: at('2026-12-03T14:00:00Z'), end: at('2026-12-03T15:00:00Z') });
  });

  it('say what is wrong with a bad window', () => {
    expect(parseWindow('2026-12-03T16:00/2026-12-03T14:00', 'UTC')).toEqual({ problem: expect.stringContaining('the end must be after the start') });
    expect(parseWindow('2026-12-03T16:00/2026-12-03T16:00', 'UTC')).toEqual({ problem: expect.stringContaining('the end must be after the start') });
    expect(parseWindow('2026-12-03T14:00', 'UTC')).toEqual({ problem: expect.stringContaining('needs a start and an end') });
    expect(parseWindow('tomorrow/later', 'UTC')).toEqual({ problem: expect.stringContaining('`tomorrow` is not a date-time') });
    expect(parseWindow('2026-12-03T14:00/2026-13-03T16:00', 'UTC')).toEqual({ problem: expect.stringContaining('`2026-13-03T16:00` is not a date-time') });
  });

  it('come with /change as window=', () => {
    expect(parseChangeCommand('payments Resize pool window=2026-12-03T14:00/2026-12-03T16:00')).toEqual({
      kind: 'request',
      service: 'payments',
      title: 'Resize pool',
      type: 'normal',
      window: '2026-12-03T14:00/2026-12-03T16:00',
    });
    expect(parseChangeCommand('calendar')).toEqual({ kind: 'calendar' });
    expect(parseChangeCommand('calendar Payments')).toEqual({ kind: 'calendar', service: 'payments' });
    expect(parseChangeCommand('calendar a b').kind).toBe('invalid');
  });
});
