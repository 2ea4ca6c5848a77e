import { requireService } from '../catalog';
import type { SprintFeatureRow, SprintRow } from '../db/schema';
import { conflict, invalid, notFound } from '../errors';
import { unitOfWork, type Work } from '../unit-of-work';
import type { SprintDeps } from './deps';
import { announceDigest, refreshDigests } from './digests';
import { requireCurrentSprint } from './lookup';
import { type FeatureStatus, featureKey, maxFeatureTitleLength, sprintKeyFor } from './model';
import { tellRequestersItShipped } from './requests';
import * as store from './store';

/** Running a sprint from Slack: start it, add features, move them through their statuses. */

/** Starts a sprint from Slack and posts its digest to the service's subscribed channels. */
export async function startSprint(
  deps: SprintDeps,
  input: { service: string; name: string; startsOn: string; endsOn: string; actor: string },
): Promise<{ sprint: SprintRow; channels: string[] }> {
  requireService(deps.catalog, input.service);
  const key = sprintKeyFor(input.service, input.name);
  return unitOfWork(deps, async (work) => {
    const current = await store.findCurrentSprint(work.tx, input.service);
    if (current && current.startsOn > input.startsOn) {
      throw invalid(
        'starts_before_current',
        `The current sprint of ${input.service}, ${current.name}, starts ${current.startsOn}; a new sprint has to start on or after that day.`,
      );
    }
    const now = deps.clock.now();
    const sprint = await store.insertSprint(work.tx, {
      key,
      service: input.service,
      name: input.name,
      startsOn: input.startsOn,
      endsOn: input.endsOn,
      createdBy: input.actor,
      createdAt: now,
      updatedAt: now,
    });
    if (!sprint) throw conflict('sprint_exists', `${input.service} already has a sprint named “${input.name}”. Pick another name.`);
    const channels = await announceDigest(deps, work, sprint);
    return { sprint, channels };
  });
}

/** What one change to a sprint did, decided while the sprint is locked. */
interface SprintChange {
  changed: boolean;
}

/**
 * Applies a change to a sprint: locks it, lets `apply` write features and their
 * events, then (when something changed) bumps the revision and refreshes the
 * digests that show it, all in the unit of work's transaction.
 */
export async function changeSprint<T extends SprintChange>(
  deps: SprintDeps,
  work: Work,
  sprintId: string,
  apply: (sprint: SprintRow, now: Date) => Promise<T>,
): Promise<T & { sprint: SprintRow }> {
  const locked = await store.lockSprint(work.tx, sprintId);
  if (!locked) throw notFound('sprint_not_found', 'That sprint no longer exists.');
  const now = deps.clock.now();
  const outcome = await apply(locked, now);
  if (!outcome.changed) return { ...outcome, sprint: locked };
  const sprint = await store.updateSprint(work.tx, locked.id, { revision: locked.revision + 1, updatedAt: now });
  await refreshDigests(work, sprint);
  return { ...outcome, sprint };
}

export async function addFeature(
  deps: SprintDeps,
  input: { service: string; title: string; customerVisible: boolean; actor: string },
): Promise<{ sprint: SprintRow; feature: SprintFeatureRow }> {
  const title = input.title.trim();
  if (!title || title.length > maxFeatureTitleLength) throw invalid('invalid_title', `A feature needs a title of 1 to ${maxFeatureTitleLength} characters.`);
  const current = await requireCurrentSprint(deps.db, input.service);
  return unitOfWork(deps, (work) =>
    changeSprint(deps, work, current.id, async (sprint, now) => {
      const { tx } = work;
      const existing = await store.listFeatures(tx, sprint.id);
      const taken = new Set(existing.map((feature) => feature.key.toUpperCase()));
      let number = sprint.featuresAdded + 1;
      while (taken.has(featureKey(number).toUpperCase())) number += 1;
      await store.updateSprint(tx, sprint.id, { featuresAdded: number });
      const [feature] = await store.insertFeatures(tx, [
        {
          sprintId: sprint.id,
          key: featureKey(number),
          title,
          status: 'planned',
          customerVisible: input.customerVisible,
          position: existing.length,
          statusChangedAt: now,
          createdAt: now,
        },
      ]);
      await store.appendFeatureEvents(tx, [{ featureId: feature!.id, at: now, actor: input.actor, fromStatus: null, toStatus: 'planned' }]);
      return { changed: true, feature: feature! };
    }),
  );
}

export async function changeFeatureStatus(
  deps: SprintDeps,
  input: { service: string; feature: string; status: FeatureStatus; actor: string },
): Promise<{ sprint: SprintRow; feature: SprintFeatureRow; from: FeatureStatus }> {
  const current = await requireCurrentSprint(deps.db, input.service);
  return unitOfWork(deps, (work) =>
    changeSprint(deps, work, current.id, async (sprint, now) => {
      const feature = await store.findFeatureByKey(work.tx, sprint.id, input.feature);
      if (!feature) {
        const keys = (await store.listFeatures(work.tx, sprint.id)).map((candidate) => `\`${candidate.key}\``);
        throw notFound(
          'feature_not_found',
          `${sprint.name} has no feature ${input.feature}. ${keys.length > 0 ? `Its features: ${keys.slice(0, 30).join(', ')}.` : 'It has no features yet: `/sprint add <title>`.'}`,
        );
      }
      if (feature.status === input.status) throw conflict('unchanged', `${feature.key} is already ${input.status}.`);
      const updated = await setFeatureStatus(work, feature, input.status, input.actor, now);
      return { changed: true, feature: updated, from: feature.status };
    }),
  );
}

/** Records a status change with its time, and tells customers whose requests it answers when it ships. */
export async function setFeatureStatus(
  work: Work,
  feature: SprintFeatureRow,
  status: FeatureStatus,
  actor: string,
  now: Date,
): Promise<SprintFeatureRow> {
  const updated = await store.updateFeature(work.tx, feature.id, { status, statusChangedAt: now });
  await store.appendFeatureEvents(work.tx, [{ featureId: feature.id, at: now, actor, fromStatus: feature.status, toStatus: status }]);
  if (status === 'done') await tellRequestersItShipped(work, updated, now);
  work.emit({ kind: 'feature', feature: updated });
  return updated;
}
