import { acceptedRange, parseCalendarDate, parseDateTime, storableInstant } from '../fields';
import { addDays, startOfLocalDay } from '../time';

/**
 * Delivery KPIs as pure rules: performance bands and reporting windows.
 *
 * Bands follow the software delivery performance clusters of the 2023 Accelerate
 * State of DevOps Report (DORA). Where the report's low and medium clusters share a
 * range (deployment frequency, lead time), Tandem calls anything beyond the medium
 * range low, so every figure lands in exactly one band.
 */

export type Band = 'elite' | 'high' | 'medium' | 'low';

const hour = 3_600;
const day = 24 * hour;

/** Successful production deployments per day: on demand, daily–weekly, weekly–monthly, rarer. */
export function deploymentFrequencyBand(perDay: number): Band {
  if (perDay >= 1) return 'elite';
  if (perDay >= 1 / 7) return 'high';
  if (perDay >= 1 / 30) return 'medium';
  return 'low';
}

/** Commit to production: under a day, up to a week, up to a month, longer. */
export function leadTimeBand(medianSeconds: number | null): Band | null {
  if (medianSeconds === null) return null;
  if (medianSeconds < day) return 'elite';
  if (medianSeconds <= 7 * day) return 'high';
  if (medianSeconds <= 30 * day) return 'medium';
  return 'low';
}

/** Share of production deployments that failed or caused an incident: 5%, 10%, 15%, more. */
export function changeFailureRateBand(rate: number | null): Band | null {
  if (rate === null) return null;
  if (rate <= 0.05) return 'elite';
  if (rate <= 0.1) return 'high';
  if (rate <= 0.15) return 'medium';
  return 'low';
}

/** Time to restore service: under an hour, under a day, up to a week, longer. */
export function timeToRestoreBand(medianSeconds: number | null): Band | null {
  if (medianSeconds === null) return null;
  if (medianSeconds < hour) return 'elite';
  if (medianSeconds < day) return 'high';
  if (medianSeconds <= 7 * day) return 'medium';
  return 'low';
}

export interface Window {
  from: Date;
  to: Date;
}

export const defaultWindowDays = 30;
export const maxWindowDays = 3 * 366;

export type WindowProblem = { field: 'from' | 'to'; message: string };

/**
 * A reporting window from `from` and `to` query values: ISO dates (whole days in the
 * time zone, `to` inclusive) or date-times (exact). Defaults: the last 30 days up to now.
 */
export function parseWindow(
  query: { from?: string | null; to?: string | null },
  now: Date,
  timeZone: string,
): Window | WindowProblem {
  const to = query.to ? parseBound(query.to, timeZone, 'end') : now;
  if (to === undefined) return { field: 'to', message: boundMessage('2026-11-23', '2026-11-23T09:00:00Z') };
  const from = query.from ? parseBound(query.from, timeZone, 'start') : new Date(to.getTime() - defaultWindowDays * day * 1000);
  if (from === undefined) return { field: 'from', message: boundMessage('2026-11-01', '2026-11-01T00:00:00Z') };
  if (from >= to) return { field: 'from', message: 'must be before to' };
  if (to.getTime() - from.getTime() > maxWindowDays * day * 1000) return { field: 'from', message: `the window may span at most ${maxWindowDays} days` };
  return { from, to };
}

const boundMessage = (date: string, dateTime: string) =>
  `must be a real calendar date (${date}) or an ISO 8601 date-time (${dateTime}), ${acceptedRange}`;

function parseBound(value: string, timeZone: string, edge: 'start' | 'end'): Date | undefined {
  if (!value.includes('T')) {
    const date = parseCalendarDate(value);
    // `to` is inclusive, so the window ends when the next day starts; the day after 9999-12-31 cannot be stored.
    const day = date === undefined ? undefined : parseCalendarDate(edge === 'start' ? date : addDays(date, 1));
    return day === undefined ? undefined : storableInstant(startOfLocalDay(day, timeZone));
  }
  return parseDateTime(value);
}

export const windowDays = (window: Window) => (window.to.getTime() - window.from.getTime()) / (day * 1000);
