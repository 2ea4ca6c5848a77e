import { z } from 'zod';
import { decodeCursor, encodeCursor, pageLimit } from '../api/cursor';
import { parseBody } from '../api/errors';
import type { ApiRoute } from '../api/router';
import type { ApiToken } from '../api/tokens';
import { findService, unknownService } from '../catalog';
import type { IncidentEventRow, IncidentRow, ProblemRow } from '../db/schema';
import { findChangeByReference } from '../changes/module';
import { findDeployment } from '../changes/store';
import { invalid, notFound } from '../errors';
import { textField } from '../fields';
import { type DeclareAlert, readAlert, type ResolveAlert } from './alerts';
import { incidentKey, incidentStatuses, maxDescriptionLength, problemKey, readSeverity, severityLabel, timeToRestoreSeconds } from './model';
import { declareIncident } from './declare';
import type { IncidentDeps } from './deps';
import { changeSeverity, changeStatus, ensureOpen, postUpdate, resolveByDedupKey, resolveIncident } from './lifecycle';
import { findIncidentByReference } from './lookup';
import { openSwarm } from './swarm';
import { rolesRecord } from './role-holders';
import { loadPostmortem } from './postmortem';
import { listIncidents, listProblems, listTimeline } from './store';

const patchBody = z
  .strictObject({
    severity: z
      .union([z.number(), z.string()], { error: 'must be 1, 2, 3 or 4 (or "SEV1" to "SEV4")' })
      .transform((value) => readSeverity(value))
      .refine((severity) => severity !== undefined, 'must be 1, 2, 3 or 4 (or "SEV1" to "SEV4")')
      .optional(),
    status: z.enum(incidentStatuses, { error: `must be one of ${incidentStatuses.join(', ')}` }).optional(),
    update: textField(maxDescriptionLength).optional(),
  })
  .refine((body) => body.severity !== undefined || body.status !== undefined || body.update !== undefined, {
    message: 'send at least one of severity, status or update',
  });

const listQuery = z.object({
  status: z.enum(['open', 'resolved'], { error: 'must be open or resolved' }).optional(),
  service: z.string().min(1).optional(),
  cursor: z.string().min(1).optional(),
  limit: pageLimit,
});

/** Where a page ended: the last incident's declared_at and id. */
const listPosition = z.tuple([z.iso.datetime(), z.uuid()]).transform(([at, id]) => ({ declaredAt: new Date(at), id }));

export function incidentRoutes(deps: IncidentDeps): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/incidents',
      scopes: ['incidents:write'],
      async handle({ body, token }) {
        const alert = readAlert(body);
        return alert.kind === 'resolve' ? resolveAlert(deps, alert, token) : declareAlert(deps, alert, token);
      },
    },
    {
      method: 'GET',
      path: '/incidents',
      scopes: ['read', 'incidents:write'],
      async handle({ query, token }) {
        const input = parseQuery(listQuery, query);
        if (input.service && !findService(deps.catalog, input.service)) {
          throw unknownService(deps.catalog, input.service, 'validation_failed');
        }
        const rows = await listIncidents(deps.db, {
          status: input.status,
          service: input.service,
          includePrivate: seesPrivate(token),
          after: input.cursor ? decodeCursor(input.cursor, listPosition) : undefined,
          limit: input.limit + 1,
        });
        const items = rows.slice(0, input.limit);
        const last = items.at(-1);
        const more = rows.length > input.limit && last;
        return {
          status: 200,
          body: { items: items.map(incidentResource), next_cursor: more ? encodeCursor([last.declaredAt.toISOString(), last.id]) : null },
        };
      },
    },
    {
      method: 'GET',
      path: '/incidents/:id',
      scopes: ['read', 'incidents:write'],
      async handle({ params, token }) {
        const incident = await findVisibleIncident(deps, params.id ?? '', token);
        const [timeline, problems, roles] = await Promise.all([
          listTimeline(deps.db, incident.id),
          listProblems(deps.db, incident.id),
          rolesRecord(deps, incident),
        ]);
        return { status: 200, body: { ...incidentDetail(incident, timeline, problems), roles } };
      },
    },
    {
      method: 'GET',
      path: '/incidents/:id/postmortem',
      scopes: ['read', 'incidents:write'],
      async handle({ params, token }) {
        const incident = await findVisibleIncident(deps, params.id ?? '', token);
        return { status: 200, contentType: 'text/markdown', body: await loadPostmortem(deps, incident) };
      },
    },
    {
      method: 'PATCH',
      path: '/incidents/:id',
      scopes: ['incidents:write'],
      async handle({ params, body, token }) {
        const incident = await findVisibleIncident(deps, params.id ?? '', token);
        const input = parseBody(patchBody, body);
        ensureOpen(incident);
        // The same use cases as the Slack commands, so the channel, timeline and announcements match.
        const actor = `api:${token.name}`;
        let current = incident;
        if (input.severity !== undefined && input.severity !== current.severity) {
          current = await changeSeverity(deps, incident.id, actor, input.severity);
        }
        if (input.status === 'resolved') {
          current = await resolveIncident(deps, incident.id, actor, input.update);
        } else {
          if (input.status && input.status !== current.status) current = await changeStatus(deps, incident.id, actor, input.status);
          if (input.update) current = await postUpdate(deps, incident.id, actor, input.update);
        }
        return { status: 200, body: incidentResource(current) };
      },
    },
  ];
}

async function declareAlert(deps: IncidentDeps, alert: DeclareAlert, token: ApiToken) {
  const warnings = [...alert.warnings];
  const notes = [...alert.notes];
  const service = alert.service ? knownService(deps, alert.service) : undefined;
  if (alert.service && !service) notes.push(`Service "${alert.service}" is not in the catalog, so the incident has no service.`);
  const cause = alert.changeId ? await findChangeByReference(deps.db, alert.changeId) : undefined;
  if (alert.changeId && !cause) warnings.push(`Ignored "change_id": there is no change ${alert.changeId}.`);
  const deployment = alert.deploymentId && isUuid(alert.deploymentId) ? await findDeployment(deps.db, alert.deploymentId) : undefined;
  if (alert.deploymentId && !deployment) warnings.push(`Ignored "deployment_id": there is no deployment ${alert.deploymentId}.`);

  const { incident, created, notes: recorded } = await declareIncident(deps, {
    causedByChangeId: cause?.id,
    causedBy: deployment ? { deploymentId: deployment.id, changeId: deployment.changeId } : undefined,
    title: alert.title,
    service,
    severity: alert.severity,
    description: alert.description,
    dedupKey: alert.dedupKey,
    actor: `api:${token.name}`,
    notes,
  });
  // The swarm opens in the background: an alerting tool gets its answer at once.
  if (created) deps.background.run(() => openSwarm(deps, incident.id));
  return { status: created ? 201 : 200, body: alertAnswer(incident, token, [...warnings, ...recorded]) };
}

async function resolveAlert(deps: IncidentDeps, alert: ResolveAlert, token: ApiToken) {
  const incident = await resolveByDedupKey(deps, alert.dedupKey, `api:${token.name}`, alert.summary);
  if (!incident) {
    throw notFound('incident_not_found', `No open incident has the dedup_key "${alert.dedupKey}", so there is nothing to resolve; nothing was created.`);
  }
  return { status: 200, body: alertAnswer(incident, token, alert.warnings) };
}

/** Catalog names are exact, but an alert's label may differ in case. */
function knownService(deps: IncidentDeps, name: string): string | undefined {
  return [name, name.toLowerCase()].find((candidate) => findService(deps.catalog, candidate));
}

/** Like parseBody, for the query string. */
function parseQuery<T extends z.ZodType>(schema: T, query: URLSearchParams): z.infer<T> {
  const result = schema.safeParse(Object.fromEntries(query));
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(query)', message: issue.message }));
  throw invalid('validation_failed', `The query is not valid: ${details.map((detail) => `${detail.field} ${detail.message}`).join('; ')}.`, details);
}

const uuid = z.uuid();
const isUuid = (value: string) => uuid.safeParse(value).success;

const seesPrivate = (token: ApiToken) => token.scopes.includes('incidents:private');

/** A private incident is 404 to a token without `incidents:private`, exactly as if it did not exist. */
async function findVisibleIncident(deps: IncidentDeps, reference: string, token: ApiToken): Promise<IncidentRow> {
  const incident = await findIncidentByReference(deps.db, reference);
  if (!incident || (incident.private && !seesPrivate(token))) throw notFound('incident_not_found', `There is no incident ${reference}.`);
  return incident;
}

/**
 * The answer to an alert: the incident and what Tandem made of the request. A
 * monitoring tool may learn that its alert joined a private incident (it holds the
 * dedup key), but not what only the channel knows: without `incidents:private` it
 * gets the key and state only.
 */
function alertAnswer(incident: IncidentRow, token: ApiToken, warnings: string[]) {
  if (!incident.private || seesPrivate(token)) return { ...incidentResource(incident), warnings };
  return {
    id: incident.id,
    number: incident.number,
    key: incidentKey(incident.number),
    severity: incident.severity,
    severity_label: severityLabel(incident.severity),
    status: incident.status,
    declared_at: incident.declaredAt.toISOString(),
    resolved_at: incident.resolvedAt?.toISOString() ?? null,
    time_to_restore_seconds: timeToRestoreSeconds(incident),
    private: true,
    dedup_key: incident.dedupKey,
    warnings: [
      ...warnings,
      `${incidentKey(incident.number)} is private: this token lacks the incidents:private scope, so only its key and state are shown.`,
    ],
  };
}

function incidentResource(incident: IncidentRow) {
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
  };
}

/** One incident with its timeline, roles and follow-ups, as `GET /incidents/:id` answers it. */
function incidentDetail(incident: IncidentRow, timeline: IncidentEventRow[], problems: ProblemRow[]) {
  return {
    ...incidentResource(incident),
    roles: { commander: incident.commander },
    timeline: timeline.map((event) => ({
      at: event.at.toISOString(),
      kind: event.kind,
      by: event.actor,
      text: event.text,
      actor: event.actor,
      data: event.data,
    })),
    follow_ups: problems.map((problem) => ({ key: problemKey(problem.number), title: problem.title, owner: problem.owner, state: problem.state })),
  };
}
