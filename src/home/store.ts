import { and, gte, inArray } from 'drizzle-orm';
import type { Database } from '../db/client';
import { homeViewers } from '../db/schema';

/** Who opened the Home and when: the only table of the Home; everything it shows is read through the other domains' stores. */

export async function rememberHomeViewer(db: Database, user: string, at: Date): Promise<void> {
  await db.insert(homeViewers).values({ userId: user, lastOpenedAt: at }).onConflictDoUpdate({
    target: homeViewers.userId,
    set: { lastOpenedAt: at },
  });
}

/** Of these people (or everyone), those who opened the Home since `since`. */
export async function homeViewersSince(db: Database, since: Date, among?: string[]): Promise<string[]> {
  const recent = gte(homeViewers.lastOpenedAt, since);
  const rows = await db
    .select({ userId: homeViewers.userId })
    .from(homeViewers)
    .where(among ? and(recent, inArray(homeViewers.userId, among.length > 0 ? among : [''])) : recent);
  return rows.map((row) => row.userId);
}
