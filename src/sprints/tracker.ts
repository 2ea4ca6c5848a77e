import { requireService } from '../catalog';
import type { SprintFeatureRow, SprintRow } from '../db/schema';
import { conflict } from '../errors';
import { unitOfWork, type Work } from '../unit-of-work';
import type { SprintDeps } from './deps';
import { announceDigest } from './digests';
import { changeSprint, setFeatureStatus } from './features';
import { isFollowUpFeatureKey } from './follow-up-features';
import { onlyService } from './lookup';
import type { FeatureStatus } from './model';
import { tellRequestersItShipped } from './requests';
import * as store from './store';

/** Sprints kept by a tracker through the API (`PUT /sprints/:key`). */

interface FeatureInput {
  key: string;
  title: string;
  status: FeatureStatus;
  customerVisible: boolean;
}

/**
 * Creates or updates a sprint from a tracker. Features missing from `features` are
 * marked dropped, not deleted, so requests linked to them keep their history.
 * Sending the same body again changes nothing.
 */
export async function upsertSprint(
  deps: SprintDeps,
  input: { key: string; name: string; service?: string; startsOn: string; endsOn: string; features: FeatureInput[]; actor: string },
): Promise<{ sprint: SprintRow; features: SprintFeatureRow[]; created: boolean }> {
  if (input.service) requireService(deps.catalog, input.service);
  return unitOfWork(deps, async (work) => {
    const { tx } = work;
    const now = deps.clock.now();
    let existing = await store.findSprintByKey(tx, input.key);
    let created = false;
    if (!existing) {
      const service = input.service ?? onlyService(deps.catalog);
      existing = await store.insertSprint(tx, { key: input.key, service, name: input.name, startsOn: input.startsOn, endsOn: input.endsOn, createdBy: input.actor, createdAt: now, updatedAt: now });
      created = existing !== undefined;
      // A concurrent PUT of the same key won the insert; update what it created.
      existing ??= await store.findSprintByKey(tx, input.key);
      if (!existing) throw conflict('sprint_conflict', 'The sprint could not be recorded; please try again.');
    }
    if (input.service && input.service !== existing.service) {
      throw conflict('sprint_service_mismatch', `Sprint ${input.key} belongs to ${existing.service}; a sprint cannot move to another service.`);
    }
    const { sprint } = await changeSprint(deps, work, existing.id, async (locked, at) => {
      const details = locked.name !== input.name || locked.startsOn !== input.startsOn || locked.endsOn !== input.endsOn;
      if (details) await store.updateSprint(tx, locked.id, { name: input.name, startsOn: input.startsOn, endsOn: input.endsOn });
      const featuresChanged = await syncFeatures(work, locked.id, input.features, input.actor, at);
      return { changed: !created && (details || featuresChanged) };
    });
    // A new sprint that becomes the service's current one has started: customers hear about it.
    if (created && (await store.findCurrentSprint(tx, sprint.service))?.id === sprint.id) await announceDigest(deps, work, sprint);
    return { sprint, features: await store.listFeatures(tx, sprint.id), created };
  });
}

/** Makes the sprint's features match `wanted`; returns whether anything changed. */
async function syncFeatures(work: Work, sprintId: string, wanted: FeatureInput[], actor: string, now: Date): Promise<boolean> {
  const { tx } = work;
  const existing = await store.listFeatures(tx, sprintId);
  const byKey = new Map(existing.map((feature) => [feature.key.toUpperCase(), feature]));
  const wantedKeys = new Set(wanted.map((feature) => feature.key.toUpperCase()));
  let changed = false;
  const added: store.NewFeature[] = [];
  for (const feature of wanted) {
    const current = byKey.get(feature.key.toUpperCase());
    if (!current) {
      added.push({ sprintId, ...feature, position: existing.length + added.length, statusChangedAt: now, createdAt: now });
      continue;
    }
    if (current.title !== feature.title || current.customerVisible !== feature.customerVisible) {
      await store.updateFeature(tx, current.id, { title: feature.title, customerVisible: feature.customerVisible });
      changed = true;
    }
    if (current.status !== feature.status) {
      await setFeatureStatus(work, current, feature.status, actor, now);
      changed = true;
    }
  }
  for (const feature of existing) {
    // A follow-up's `PRB-n` feature was added by Tandem, not the tracker, so the tracker's list does not drop it.
    if (!wantedKeys.has(feature.key.toUpperCase()) && feature.status !== 'dropped' && !isFollowUpFeatureKey(feature.key)) {
      await setFeatureStatus(work, feature, 'dropped', actor, now);
      changed = true;
    }
  }
  const inserted = await store.insertFeatures(tx, added);
  await store.appendFeatureEvents(tx, inserted.map((feature) => ({ featureId: feature.id, at: now, actor, fromStatus: null, toStatus: feature.status })));
  for (const feature of inserted) if (feature.status === 'done') await tellRequestersItShipped(work, feature, now);
  return changed || inserted.length > 0;
}
