import { describe, expect, it } from 'vitest';
import {
  changeFailureRateBand,
  deploymentFrequencyBand,
  leadTimeBand,
  parseWindow,
  timeToRestoreBand,
} from '../../src/metrics/model';

const hour = 3600;
const day = 24 * hour;

describe('DORA bands (2023 performance clusters)', () => {
  it('bands deployment frequency: on demand, daily–weekly, weekly–monthly, rarer', () => {
    expect([2, 1, 0.99, 1 / 7, 0.14, 1 / 30, 0.03, 0].map(deploymentFrequencyBand)).toEqual([
      'elite',
      'elite',
      'high',
      'high',
      'medium',
      'medium',
      'low',
      'low',
    ]);
  });

  it('bands lead time, failure rate and time to restore at their edges', () => {
    expect([day - 1, day, 7 * day, 7 * day + 1, 30 * day, 31 * day].map(leadTimeBand)).toEqual(['elite', 'high', 'high', 'medium', 'medium', 'low']);
    expect([0, 0.05, 0.06, 0.1, 0.15, 0.151].map(changeFailureRateBand)).toEqual(['elite', 'elite', 'high', 'high', 'medium', 'low']);
    expect([hour - 1, hour, day - 1, day, 7 * day, 8 * day].map(timeToRestoreBand)).toEqual(['elite', 'high', 'high', 'medium', 'medium', 'low']);
    expect([leadTimeBand(null), changeFailureRateBand(null), timeToRestoreBand(null)]).toEqual([null, null, null]);
  });
});

describe('reporting windows', () => {
  const now = new Date('2026-11-23T09:00:00Z');

  it('defaults to the last 30 days', () => {
    expect(parseWindow({}, now, 'UTC')).toEqual({ from: new Date('2026-10-24T09:00:00Z'), to: now });
  });

  it('reads dates as whole days in the time zone, `to` inclusive, and date-times exactly', () => {
    expect(parseWindow({ from: '2026-11-01', to: '2026-11-07' }, now, 'Europe/Paris')).toEqual({
      from: new Date('2026-10-31T23:00:00Z'),
      to: new Date('2026-11-07T23:00:00Z'),
    });
    expect(parseWindow({ from: '2026-11-01T06:00:00+02:00', to: '2026-11-02T00:00:00Z' }, now, 'UTC')).toEqual({
      from: new Date('2026-11-01T04:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
    });
  });

  it('says what is wrong with a window', () => {
    expect(parseWindow({ from: 'last week' }, now, 'UTC')).toMatchObject({ field: 'from' });
    expect(parseWindow({ to: '2026-13-45' }, now, 'UTC')).toMatchObject({ field: 'to' });
    expect(parseWindow({ from: '2026-11-10', to: '2026-11-01' }, now, 'UTC')).toEqual({ field: 'from', message: 'must be before to' });
    expect(parseWindow({ from: '2020-01-01', to: '2026-01-01' }, now, 'UTC')).toMatchObject({ field: 'from', message: expect.stringContaining('at most') });
  });
});
