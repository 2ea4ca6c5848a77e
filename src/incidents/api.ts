import { z } from 'zod';
import { parseBody } from '../api/errors';
import type { ApiRoute } from '../api/router';
import type { IncidentEventRow, IncidentRow } from '../db/schema';
import { findChangeByReference } from '../changes/service';
import { findDeployment } from '../changes/store';
import { invalid, notFound } from '../errors';
import { incidentKey, maxTitleLength, parseSeverity, severityLabel, timeToRestoreSeconds } from './model';
import { declareIncident, findIncidentByReference, type IncidentDeps } from './service';
import { openSwarm } from './swarm';
import { listTimeline } from './store';

const declareBody = z.strictObject({
  title: z.string().trim().min(1, 'is required').max(maxTitleLength, `must be at most ${maxTitleLength} characters`),
  service: z.string().min(1).optional(),
  severity: z
    .union([z.number(), z.string()])
    .refine((value) => parseSeverity(value) !== undefined, 'must be 1, 2, 3 or 4 (or "SEV1" to "SEV4")')
    .optional(),
  description: z.string().max(3000, 'must be at most 3000 characters').optional(),
  dedup_key: z.string().min(1).max(255, 'must be at most 255 characters').optional(),
  change_id: z.string().min(1).optional(),
  deployment_id: z.uuid('must be the id of a deployment (POST /deployments answers it)').optional(),
});

export function incidentRoutes(deps: IncidentDeps): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/incidents',
      scopes: ['incidents:write'],
      async handle({ body, token }) {
        const input = parseBody(declareBody, body);
        const cause = input.change_id ? await findChangeByReference(deps.db, input.change_id) : undefined;
        if (input.change_id && !cause) {
          throw invalid('validation_failed', `change_id: there is no change ${input.change_id}.`, [
            { field: 'change_id', message: `no change ${input.change_id}` },
          ]);
        }
        const deployment = input.deployment_id ? await findDeployment(deps.db, input.deployment_id) : undefined;
        if (input.deployment_id && !deployment) {
          throw invalid('validation_failed', `deployment_id: there is no deployment ${input.deployment_id}.`, [
            { field: 'deployment_id', message: `no deployment ${input.deployment_id}` },
          ]);
        }
        const { incident, created } = await declareIncident(deps, {
          causedByChangeId: cause?.id,
          causedBy: deployment ? { deploymentId: deployment.id, changeId: deployment.changeId } : undefined,
          title: input.title,
          service: input.service,
          severity: input.severity,
          description: input.description,
          dedupKey: input.dedup_key,
          actor: `api:${token.name}`,
        });
        // The swarm opens in the background: an alerting tool gets its answer at once.
        if (created) deps.background.run(() => openSwarm(deps, incident.id));
        return { status: created ? 201 : 200, body: incidentResource(incident) };
      },
    },
    {
      method: 'GET',
      path: '/incidents/:id',
      scopes: ['read', 'incidents:write'],
      async handle({ params }) {
        const incident = await findIncidentByReference(deps.db, params.id ?? '');
        if (!incident) throw notFound('incident_not_found', `There is no incident ${params.id}.`);
        return { status: 200, body: incidentResource(incident, await listTimeline(deps.db, incident.id)) };
      },
    },
  ];
}

export function incidentResource(incident: IncidentRow, timeline?: IncidentEventRow[]) {
  return {
    id: incident.id,
    number: incident.number,
    key: incidentKey(incident.number),
    title: incident.title,
    description: incident.description,
    service: incident.service,
    severity: incident.severity,
    severity_label: severityLabel(incident.severity),
    status: incident.status,
    commander: incident.commander,
    declared_by: incident.declaredBy,
    declared_at: incident.declaredAt.toISOString(),
    resolved_at: incident.resolvedAt?.toISOString() ?? null,
    resolution: incident.resolution,
    time_to_restore_seconds: timeToRestoreSeconds(incident),
    private: incident.private,
    dedup_key: incident.dedupKey,
    channel: incident.channelId ? { id: incident.channelId, name: incident.channelName } : null,
    caused_by_change_id: incident.causedByChangeId,
    caused_by_deployment_id: incident.causedByDeploymentId,
    ...(timeline
      ? {
          timeline: timeline.map((event) => ({
            at: event.at.toISOString(),
            actor: event.actor,
            kind: event.kind,
            text: event.text,
            data: event.data,
          })),
        }
      : {}),
  };
}
