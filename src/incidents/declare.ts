import { requireService, type ServiceConfig } from '../catalog';
import type { Database } from '../db/client';
import type { IncidentRow } from '../db/schema';
import { conflict, invalid } from '../errors';
import { unitOfWork } from '../unit-of-work';
import { attachCause } from './cause';
import type { IncidentDeps } from './deps';
import { defaultSeverity, fitDeclaration, parseSeverity, type Severity, severityLabel } from './model';
import * as store from './store';

export interface DeclareInput {
  title: string;
  description?: string;
  service?: string;
  severity?: number | string;
  private?: boolean;
  /** A Slack user ID, or `api:<token name>`. */
  actor: string;
  invite?: string[];
  /** The Slack delivery or API request; a repeat returns the incident it declared. */
  requestKey?: string;
  dedupKey?: string;
  /** The change that caused it, when known at declaration (alerting tied to a deploy). */
  causedByChangeId?: string;
  /** The deployment that caused it; its change, if it has one, is the cause too. */
  causedBy?: { deploymentId: string; changeId: string | null };
  /** What the caller changed while reading the request (an unknown service left out); each joins the timeline. */
  notes?: string[];
}

/** Records a new incident (or answers with the one a repeated request or an open dedup key already declared). */
export async function declareIncident(
  deps: IncidentDeps,
  input: DeclareInput,
): Promise<{ incident: IncidentRow; created: boolean; notes: string[] }> {
  if (!input.title.trim()) throw invalid('title_required', 'An incident needs a title.', [{ field: 'title', message: 'is required' }]);
  const fitted = fitDeclaration({ title: input.title, description: input.description });
  const title = fitted.title;
  const service = input.service ? requireService(deps.catalog, input.service) : undefined;
  const severity = resolveSeverity(input.severity, service);
  const now = deps.clock.now();
  const notes = [...(input.notes ?? []), ...fitted.notes];

  const findRepeat = async (db: Database) =>
    (input.requestKey ? await store.findIncidentByRequestKey(db, input.requestKey) : undefined) ??
    (input.dedupKey ? await store.findOpenIncidentByDedupKey(db, input.dedupKey) : undefined);

  const declared = await unitOfWork(deps, async (work) => {
    const { tx } = work;
    const repeat = await findRepeat(tx);
    if (repeat) return { incident: repeat, created: false };
    const incident = await store.insertIncident(tx, {
      title,
      description: fitted.description,
      service: input.service ?? null,
      severity,
      declaredBy: input.actor,
      requestKey: input.requestKey ?? null,
      dedupKey: input.dedupKey ?? null,
      private: input.private ?? false,
      swarmInvite: input.invite ?? [],
      declaredAt: now,
      updatedAt: now,
    });
    if (!incident) {
      // A concurrent delivery of the same request won the insert; answer with its incident.
      const raced = await findRepeat(tx);
      if (raced) return { incident: raced, created: false };
      throw conflict('incident_conflict', 'The incident could not be recorded; please try again.');
    }
    await store.appendEvent(tx, {
      incidentId: incident.id,
      at: now,
      actor: input.actor,
      kind: 'declared',
      text: `Declared ${severityLabel(severity)}: ${title}`,
      data: { severity, service: input.service ?? null, private: incident.private },
    });
    for (const note of notes) {
      await store.appendEvent(tx, { incidentId: incident.id, at: now, actor: 'tandem', kind: 'note', text: note, data: {} });
    }
    let declared = incident;
    if (input.causedBy) {
      declared = await store.updateIncident(tx, incident.id, { causedByDeploymentId: input.causedBy.deploymentId, updatedAt: now });
      await store.appendEvent(tx, {
        incidentId: incident.id,
        at: now,
        actor: input.actor,
        kind: 'caused_by_deployment',
        text: `Caused by deployment ${input.causedBy.deploymentId}, which now counts as failed`,
        data: { deployment: input.causedBy.deploymentId },
      });
    }
    const changeId = input.causedByChangeId ?? input.causedBy?.changeId ?? undefined;
    if (changeId) declared = await attachCause(work, deps, declared, changeId, input.actor, now);
    work.emit({ kind: 'incident', incident: declared });
    return { incident: declared, created: true };
  });
  // A repeat recorded nothing, so only what the caller noticed about this request applies to it.
  return { ...declared, notes: declared.created ? notes : (input.notes ?? []) };
}

function resolveSeverity(requested: number | string | undefined, service: ServiceConfig | undefined): Severity {
  if (requested === undefined || requested === '') return (service?.default_severity as Severity | undefined) ?? defaultSeverity;
  const severity = parseSeverity(requested);
  if (severity === undefined) {
    throw invalid('invalid_severity', `"${requested}" is not a severity: use 1 (highest) to 4.`, [
      { field: 'severity', message: 'must be 1, 2, 3 or 4' },
    ]);
  }
  return severity;
}
