import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calendarDate, dateTime, inOrder, optionalTextField, parseCalendarDate, parseDateTime, textField, withoutNul } from '../src/fields';

const pad = (value: number, width = 2) => String(value).padStart(width, '0');
const earliest = Date.UTC(1970, 0, 1);
const latest = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

describe('boundary fields', () => {
  it('takes exactly the calendar dates that exist, from 1970 to 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (year, month, day) => {
        const written = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
        const instant = new Date(0);
        instant.setUTCFullYear(year, month - 1, day);
        const exists = month >= 1 && month <= 12 && day >= 1 && instant.getUTCDate() === day && instant.getUTCMonth() === month - 1;
        expect(parseCalendarDate(written)).toBe(exists && year >= 1970 ? written : undefined);
      }),
    );
    expect(calendarDate.safeParse('2026-02-30').error?.issues[0]?.message).toBe('must be a real calendar date written YYYY-MM-DD, such as 2026-11-23');
    expect(calendarDate.safeParse('1969-12-31').error?.issues[0]?.message).toBe('must be a date between 1970-01-01 and 9999-12-31');
    expect(parseCalendarDate('2028-02-29')).toBe('2028-02-29');
    expect(parseCalendarDate('2100-02-29')).toBeUndefined();
  });

  it('reads every storable instant back from its ISO form, in any offset, and nothing outside the range', () => {
    fc.assert(
      fc.property(fc.integer({ min: earliest - 86_400_000 * 2, max: latest + 86_400_000 * 2 }), fc.integer({ min: -14 * 60, max: 14 * 60 }), (ms, offsetMinutes) => {
        const utc = new Date(ms);
        const shifted = new Date(ms + offsetMinutes * 60_000);
        if (Number.isNaN(shifted.getTime()) || shifted.getUTCFullYear() > 9999 || shifted.getUTCFullYear() < 1) return;
        const sign = offsetMinutes < 0 ? '-' : '+';
        const offset = `${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
        const written = `${shifted.toISOString().slice(0, 23)}${offset}`;
        const storable = ms >= earliest && ms <= latest;
        expect(parseDateTime(written)?.getTime()).toBe(storable ? utc.getTime() : undefined);
      }),
    );
    for (const impossible of ['2026-02-30T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T09:60:00Z', '2026-11-23T09:00:00', '2026-11-23 09:00:00Z', 'tomorrow']) {
      expect(dateTime.safeParse(impossible).error?.issues[0]?.message, impossible).toBe('must be an ISO 8601 date-time, such as 2026-11-23T09:00:00Z');
    }
    expect(dateTime.safeParse('0000-01-01T00:00:00Z').error?.issues[0]?.message).toContain('between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z');
  });

  it('never lets a NUL through as text, and drops it from Slack text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('\u0000', 'a', ' ', 'é') }), (value) => {
        const parsed = textField(50).safeParse(value);
        if (parsed.success) expect(parsed.data).not.toContain('\u0000');
        expect(withoutNul(value)).toBe(value.split('\u0000').join(''));
      }),
    );
    expect(textField(10, { example: 'production' }).safeParse(undefined).error?.issues[0]?.message).toBe('is required (for example production)');
    expect(textField(10).safeParse('   ').error?.issues[0]?.message).toBe('is required');
    expect(textField(3).safeParse('abcd').error?.issues[0]?.message).toBe('must be at most 3 characters');
    expect(optionalTextField(10).parse('  ')).toBeUndefined();
    expect(optionalTextField(10).parse(' a ')).toBe('a');
  });

  it('orders a window: the end may equal the start but not come before it', () => {
    expect(inOrder(new Date(1), new Date(1))).toBe(true);
    expect(inOrder(new Date(2), new Date(1))).toBe(false);
    expect(inOrder('2026-11-23', '2026-11-22')).toBe(false);
    expect(inOrder(undefined, new Date(1))).toBe(true);
  });
});
