import { and, desc, eq, gte, inArray, lt, lte } from 'drizzle-orm';
import type { Catalog } from '../catalog';
import type { Database } from '../db/client';
import { sprints } from '../db/schema';
import { addDays, localDate, startOfLocalDay } from '../time';
import { type Sprint, sprintAt, sprintsBefore } from './model';

/**
 * The sprints change budgets count in. A service's recorded sprints (`/sprint start`,
 * `PUT /sprints`) come first; where none is recorded, the catalog's fixed cadence
 * fills in. Either way a sprint is keyed by its first day.
 */

interface Context {
  catalog: Catalog;
  timeZone: string;
}

function fromRecorded(row: { startsOn: string; endsOn: string }, timeZone: string): Sprint {
  return { key: row.startsOn, startsAt: startOfLocalDay(row.startsOn, timeZone), endsAt: startOfLocalDay(addDays(row.endsOn, 1), timeZone) };
}

/** The sprint of `service` that contains `at`. */
export async function budgetSprintAt(db: Database, context: Context, service: string, at: Date): Promise<Sprint> {
  const day = localDate(at, context.timeZone);
  const [recorded] = await db
    .select({ startsOn: sprints.startsOn, endsOn: sprints.endsOn })
    .from(sprints)
    .where(and(eq(sprints.service, service), lte(sprints.startsOn, day), gte(sprints.endsOn, day)))
    .orderBy(desc(sprints.startsOn))
    .limit(1);
  return recorded ? fromRecorded(recorded, context.timeZone) : sprintAt(context.catalog.sprints, at, context.timeZone);
}

/** The `count` sprints of `service` before `sprint`, newest first: recorded ones, then the cadence's before them. */
export async function budgetSprintsBefore(db: Database, context: Context, service: string, sprint: Sprint, count: number): Promise<Sprint[]> {
  const recorded = await db
    .select({ startsOn: sprints.startsOn, endsOn: sprints.endsOn })
    .from(sprints)
    .where(and(eq(sprints.service, service), lt(sprints.startsOn, sprint.key)))
    .orderBy(desc(sprints.startsOn))
    .limit(count);
  const earlier = recorded.map((row) => fromRecorded(row, context.timeZone));
  const oldest = earlier.at(-1) ?? sprint;
  const cadenceBefore = sprintsBefore(context.catalog.sprints, sprintAt(context.catalog.sprints, oldest.startsAt, context.timeZone), count, context.timeZone);
  return [...earlier, ...cadenceBefore.filter((candidate) => candidate.endsAt <= oldest.startsAt)].slice(0, count);
}

/** Each service's current budget sprint key, in one query for all of them. */
export async function currentBudgetSprints(db: Database, context: Context, services: string[], at: Date): Promise<Map<string, string>> {
  const day = localDate(at, context.timeZone);
  const rows = services.length
    ? await db
        .select({ service: sprints.service, startsOn: sprints.startsOn })
        .from(sprints)
        .where(and(inArray(sprints.service, services), lte(sprints.startsOn, day), gte(sprints.endsOn, day)))
        .orderBy(sprints.startsOn)
    : [];
  const cadence = sprintAt(context.catalog.sprints, at, context.timeZone).key;
  const current = new Map(services.map((service) => [service, cadence]));
  for (const row of rows) current.set(row.service, row.startsOn);
  return current;
}
