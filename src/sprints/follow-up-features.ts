import type { SprintFeatureRow, SprintRow } from '../db/schema';
import { localDate } from '../time';
import type { Work } from '../unit-of-work';
import type { SprintDeps } from './deps';
import { changeSprint } from './features';
import { maxFeatureTitleLength } from './model';
import * as store from './store';

/**
 * Incident follow-ups in the backlog: each `PRB-n` becomes an internal feature of its
 * service's sprint, so the fix is planned with the rest of the team's work. The
 * feature's title is the follow-up's title alone, never the incident's, and it is
 * never customer-visible, so a private incident stays private.
 */

/** `PRB-12`: the key of a feature Tandem added for a follow-up. */
export const isFollowUpFeatureKey = (key: string) => /^PRB-\d+$/i.test(key.trim());

export interface FollowUpFeature {
  sprint: SprintRow;
  feature: SprintFeatureRow;
  /** `current`: the sprint running today; `next`: none runs today, so the next one to start. */
  placement: 'current' | 'next';
}

/**
 * Adds the follow-up's feature to the service's current sprint (the next one when none
 * is running), inside the caller's unit of work. Undefined when the service has no
 * current or coming sprint; a repeat for a key already in that sprint answers that feature.
 */
export async function addFollowUpFeature(
  work: Work,
  deps: Pick<SprintDeps, 'clock' | 'timeZone'>,
  input: { service: string; key: string; title: string; actor: string },
): Promise<FollowUpFeature | undefined> {
  const now = deps.clock.now();
  const target = await store.findSprintForDay(work.tx, input.service, localDate(now, deps.timeZone));
  if (!target) return undefined;
  const title = input.title.length > maxFeatureTitleLength ? `${input.title.slice(0, maxFeatureTitleLength - 1)}…` : input.title;
  const outcome = await changeSprint(deps as SprintDeps, work, target.sprint.id, async (sprint, at) => {
    const existing = await store.findFeatureByKey(work.tx, sprint.id, input.key);
    if (existing) return { changed: false, feature: existing };
    const position = (await store.listFeatures(work.tx, sprint.id)).length;
    const [feature] = await store.insertFeatures(work.tx, [
      { sprintId: sprint.id, key: input.key, title, status: 'planned', customerVisible: false, position, statusChangedAt: at, createdAt: at },
    ]);
    await store.appendFeatureEvents(work.tx, [{ featureId: feature!.id, at, actor: input.actor, fromStatus: null, toStatus: 'planned' }]);
    return { changed: true, feature: feature! };
  });
  return { sprint: outcome.sprint, feature: outcome.feature, placement: target.placement };
}
