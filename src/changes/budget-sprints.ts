import type { Catalog } from '../catalog';
import type { Database } from '../db/client';
import { listSprintSpans } from '../sprints/store';
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

/** At most a year's worth of sprints is listed for a window. */
const maxSprintsInWindow = 30;

function fromRecorded(row: { startsOn: string; endsOn: string }, timeZone: string): Sprint {
  return { key: row.startsOn, startsAt: startOfLocalDay(row.startsOn, timeZone), endsAt: startOfLocalDay(addDays(row.endsOn, 1), timeZone) };
}

/** The sprint of `service` that contains `at`. */
export async function budgetSprintAt(db: Database, context: Context, service: string, at: Date): Promise<Sprint> {
  const day = localDate(at, context.timeZone);
  const [recorded] = await listSprintSpans(db, { services: [service], from: day, to: day, limit: 1 });
  return recorded ? fromRecorded(recorded, context.timeZone) : sprintAt(context.catalog.sprints, at, context.timeZone);
}

/** The `count` sprints of `service` before `sprint`, newest first: recorded ones, then the cadence's before them. */
export async function budgetSprintsBefore(db: Database, context: Context, service: string, sprint: Sprint, count: number): Promise<Sprint[]> {
  const recorded = await listSprintSpans(db, { services: [service], startsBefore: sprint.key, limit: count });
  const earlier = recorded.map((row) => fromRecorded(row, context.timeZone));
  const oldest = earlier.at(-1) ?? sprint;
  const cadenceBefore = sprintsBefore(context.catalog.sprints, sprintAt(context.catalog.sprints, oldest.startsAt, context.timeZone), count, context.timeZone);
  return [...earlier, ...cadenceBefore.filter((candidate) => candidate.endsAt <= oldest.startsAt)].slice(0, count);
}

/** Each service's current budget sprint key, in one query for all of them. */
export async function currentBudgetSprints(db: Database, context: Context, services: string[], at: Date): Promise<Map<string, string>> {
  const day = localDate(at, context.timeZone);
  const rows = await listSprintSpans(db, { services, from: day, to: day });
  const cadence = sprintAt(context.catalog.sprints, at, context.timeZone).key;
  const current = new Map(services.map((service) => [service, cadence]));
  // Newest first: where recorded sprints overlap, the one that starts last is current.
  for (const row of [...rows].reverse()) current.set(row.service, row.startsOn);
  return current;
}

/**
 * The budget sprint keys of `service` that overlap `from`..`to` (exclusive), oldest
 * first: the same sprints `budgetSprintAt` would pick for each moment in it.
 */
export async function budgetSprintsIn(db: Database, context: Context, service: string, window: { from: Date; to: Date }): Promise<string[]> {
  const lastDay = localDate(new Date(window.to.getTime() - 1), context.timeZone);
  const recorded = (await listSprintSpans(db, { services: [service], from: localDate(window.from, context.timeZone), to: lastDay }))
    .map((row) => fromRecorded(row, context.timeZone))
    .reverse();
  const keys: string[] = [];
  let at = window.from;
  while (at < window.to && keys.length < maxSprintsInWindow) {
    const moment = at;
    const containing = recorded.filter((sprint) => sprint.startsAt <= moment && moment < sprint.endsAt).at(-1);
    // Between recorded sprints the cadence fills in, up to the next recorded one.
    const nextRecorded = recorded.find((sprint) => sprint.startsAt > moment)?.startsAt;
    const sprint = containing ?? sprintAt(context.catalog.sprints, moment, context.timeZone);
    if (!keys.includes(sprint.key)) keys.push(sprint.key);
    at = containing || !nextRecorded || sprint.endsAt <= nextRecorded ? sprint.endsAt : nextRecorded;
  }
  return keys;
}
