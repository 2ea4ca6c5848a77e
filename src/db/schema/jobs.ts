import { primaryKey, pgTable, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';

/**
 * Periods of scheduled jobs that some instance has claimed. A job's run for one
 * period (a subscription's Monday digest, a service's daily reminder) inserts its
 * row in the transaction that does the work; the primary key lets exactly one
 * instance win, and a run that fails leaves the period unclaimed.
 */
export const scheduledRuns = pgTable(
  'scheduled_runs',
  {
    /** The job and what it runs for, e.g. `sprint-digest:<subscription id>`. */
    job: text().notNull(),
    /** The period's scheduled wall-clock time in the job's time zone, e.g. `2026-11-23T09:00:00`. */
    period: text().notNull(),
    /** The same moment as an instant. */
    periodAt: timestamptz().notNull(),
    claimedAt: timestamptz().notNull(),
  },
  (table) => [primaryKey({ name: 'scheduled_runs_pkey', columns: [table.job, table.period] })],
);
