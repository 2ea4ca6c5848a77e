import type { IncidentRow } from '../db/schema';
import { attributeIncident } from '../changes/module';
import { lockChange } from '../changes/store';
import { conflict, notFound } from '../errors';
import { unitOfWork, type Work } from '../unit-of-work';
import type { IncidentDeps } from './deps';
import { type IncidentChange, incidentKey } from './model';
import { recordChange, refreshSummary } from './notices';
import * as store from './store';

/** Records the change that caused an incident, which then counts as failed. */
export async function linkCause(deps: IncidentDeps, incidentId: string, changeId: string, actor: string): Promise<IncidentRow> {
  const updated = await unitOfWork(deps, async (work) => {
    const incident = await store.lockIncident(work.tx, incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    if (incident.causedByChangeId === changeId) {
      throw conflict('unchanged', `${incidentKey(incident.number)} is already linked to that change.`);
    }
    const linked = await attachCause(work, deps, incident, changeId, actor, deps.clock.now());
    work.emit({ kind: 'incident', incident: linked });
    return linked;
  });
  deps.background.run(() => refreshSummary(deps, updated.id));
  return updated;
}

/** Links the cause inside the caller's unit of work: the change counts as failed, and both timelines say so. */
export async function attachCause(
  work: Work,
  deps: IncidentDeps,
  incident: IncidentRow,
  changeId: string,
  actor: string,
  now: Date,
): Promise<IncidentRow> {
  const cause = await lockChange(work.tx, changeId);
  if (!cause) throw notFound('change_not_found', 'That change does not exist.');
  const failed = await attributeIncident(work, deps, cause, { key: incidentKey(incident.number), private: incident.private }, actor);
  work.emit({ kind: 'change', change: failed });
  const linked = await store.updateIncident(work.tx, incident.id, { causedByChangeId: cause.id, updatedAt: now });
  const change: IncidentChange = { kind: 'caused_by', changeNumber: cause.number, changeTitle: cause.title };
  await recordChange(work, deps, linked, change, actor, now, { change: cause.id, key: `CHG-${cause.number}` });
  return linked;
}
