import { pgTable, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';

/** Who has opened Tandem's App Home, so it is refreshed for them when what it shows changes. */
export const homeViewers = pgTable('home_viewers', {
  userId: text().primaryKey(),
  lastOpenedAt: timestamptz().notNull(),
});
