import { pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns';
import { incidents } from './incidents';

/**
 * Who holds an incident's roles besides the commander (the catalog's
 * `incidents.roles`: comms, scribe, …), one row per role held. The history of who
 * held a role is on the timeline; this is who holds it now.
 */
export const incidentRoles = pgTable(
  'incident_roles',
  {
    incidentId: uuid()
      .notNull()
      .references(() => incidents.id),
    role: text().notNull(),
    userId: text().notNull(),
    assignedBy: text().notNull(),
    assignedAt: timestamptz().notNull(),
  },
  (table) => [primaryKey({ name: 'incident_roles_pkey', columns: [table.incidentId, table.role] })],
);

/**
 * The commander's snooze of the update reminder: no reminder before `until`. The
 * reminder it answered is named by its due time, so a second click on that reminder
 * is recognised as stale.
 */
export const incidentUpdateSnoozes = pgTable('incident_update_snoozes', {
    incidentId: uuid()
      .primaryKey()
      .references(() => incidents.id),
    until: timestamptz().notNull(),
    snoozedBy: text().notNull(),
    snoozedAt: timestamptz().notNull(),
  reminderDueAt: timestamptz().notNull(),
});

export type IncidentRoleRow = typeof incidentRoles.$inferSelect;
export type IncidentUpdateSnoozeRow = typeof incidentUpdateSnoozes.$inferSelect;
