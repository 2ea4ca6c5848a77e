import type { WebClient } from '@slack/web-api';
import type { BackgroundWork } from '../background';
import { type Catalog, findService, requireService, type ServiceConfig } from '../catalog';
import type { DomainEvents } from '../events';
import type { Database } from '../db/client';
import type { IncidentRow, ProblemRow } from '../db/schema';
import { attributeIncident } from '../changes/service';
import { lockChange } from '../changes/store';
import { conflict, hasErrorCode, invalid, notFound } from '../errors';
import type { Logger } from '../log';
import { findByReference } from '../references';
import { enqueue, type OutboxMessage, type OutboxWorker } from '../slack/outbox';
import { slackErrorCode } from '../slack/errors';
import { isSlackUserId } from '../slack/text';
import type { Clock } from '../time';
import { announcement, channelNote, customerNotice, summaryMessage } from './blocks';
import {
  defaultSeverity,
  describeChange,
  fitDeclaration,
  type IncidentChange,
  type IncidentStatus,
  incidentKey,
  parseSeverity,
  problemKey,
  type Severity,
  severityLabel,
  timeToRestoreSeconds,
} from './model';
import * as store from './store';
import { inviteToChannel } from './swarm';

export interface IncidentDeps {
  db: Database;
  background: BackgroundWork;
  events: DomainEvents;
  clock: Clock;
  catalog: Catalog;
  /** Interactive Web API client: waits out 429s and retries, for calls whose answer we need now. */
  slack: WebClient;
  outbox: OutboxWorker;
  /** Rejects 429s instead of sleeping and never retries: swarm set-up records failures and retries durably. */
  durableSlack: WebClient;
  /** Aborted when the process stops: swarm set-up hands its lease back between steps. */
  shutdown: AbortSignal;
  logger: Logger;
  timeZone: string;
  botUserId: string;
}

export const noticeTopic = 'incident.notice';

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

  const declared = await deps.db.transaction(async (tx) => {
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
    if (!changeId) return { incident: declared, created: true };
    return { incident: await attachCause(tx, deps, declared, changeId, input.actor, now), created: true };
  });
  if (declared.created) deps.events.emit({ kind: 'incident', incident: declared.incident });
  // A repeat recorded nothing, so only what the caller noticed about this request applies to it.
  return { ...declared, notes: declared.created ? notes : (input.notes ?? []) };
}

/** Records the change that caused an incident, which then counts as failed. */
export async function linkCause(deps: IncidentDeps, incidentId: string, changeId: string, actor: string): Promise<IncidentRow> {
  const updated = await deps.db.transaction(async (tx) => {
    const incident = await store.lockIncident(tx, incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    if (incident.causedByChangeId === changeId) {
      throw conflict('unchanged', `${incidentKey(incident.number)} is already linked to that change.`);
    }
    return attachCause(tx, deps, incident, changeId, actor, deps.clock.now());
  });
  deps.outbox.kick();
  deps.events.emit({ kind: 'incident', incident: updated });
  deps.background.run(() => refreshSummary(deps, updated.id));
  return updated;
}

async function attachCause(tx: Database, deps: IncidentDeps, incident: IncidentRow, changeId: string, actor: string, now: Date): Promise<IncidentRow> {
  const cause = await lockChange(tx, changeId);
  if (!cause) throw notFound('change_not_found', 'That change does not exist.');
  const failed = await attributeIncident(tx, deps, cause, incidentKey(incident.number), actor);
  deps.events.emit({ kind: 'change', change: failed });
  const linked = await store.updateIncident(tx, incident.id, { causedByChangeId: cause.id, updatedAt: now });
  const change: IncidentChange = { kind: 'caused_by', changeNumber: cause.number, changeTitle: cause.title };
  await recordChange(tx, deps, linked, change, actor, now, { change: cause.id, key: `CHG-${cause.number}` });
  return linked;
}

type Decision = { patch: store.IncidentPatch; change: IncidentChange };

/**
 * Applies one change: locks the incident, lets `decide` check it and say what
 * changes, writes the row, its timeline entry and its announcements in one
 * transaction, then refreshes the pinned summary.
 */
async function changeIncident(
  deps: IncidentDeps,
  incidentId: string,
  actor: string,
  decide: (incident: IncidentRow, now: Date) => Decision,
): Promise<IncidentRow> {
  const updated = await deps.db.transaction(async (tx) => {
    const incident = await store.lockIncident(tx, incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    const now = deps.clock.now();
    const { patch, change } = decide(incident, now);
    const row = await store.updateIncident(tx, incident.id, { ...patch, updatedAt: now });
    await recordChange(tx, deps, row, change, actor, now, change as unknown as Record<string, unknown>);
    return row;
  });
  deps.outbox.kick();
  deps.events.emit({ kind: 'incident', incident: updated });
  deps.background.run(() => refreshSummary(deps, updated.id));
  return updated;
}

export function ensureOpen(incident: IncidentRow): void {
  if (incident.status === 'resolved') {
    throw conflict(
      'incident_resolved',
      `${incidentKey(incident.number)} is already resolved. If the problem is back, declare a new incident and mention ${incidentKey(incident.number)} in it.`,
    );
  }
}

export function changeSeverity(deps: IncidentDeps, incidentId: string, actor: string, severity: Severity) {
  return changeIncident(deps, incidentId, actor, (incident) => {
    ensureOpen(incident);
    if (incident.severity === severity) {
      throw conflict('unchanged', `${incidentKey(incident.number)} is already ${severityLabel(severity)}.`);
    }
    return { patch: { severity }, change: { kind: 'severity', from: incident.severity, to: severity } };
  });
}

export function changeStatus(deps: IncidentDeps, incidentId: string, actor: string, status: Exclude<IncidentStatus, 'resolved'>, note?: string) {
  return changeIncident(deps, incidentId, actor, (incident) => {
    ensureOpen(incident);
    if (incident.status === status && !note) {
      throw conflict('unchanged', `${incidentKey(incident.number)} is already ${status}.`);
    }
    return { patch: { status }, change: { kind: 'status', from: incident.status, to: status, ...(note ? { note } : {}) } };
  });
}

export async function assignCommander(deps: IncidentDeps, incidentId: string, actor: string, commander: string) {
  if (!isSlackUserId(commander)) throw invalid('invalid_user', 'The commander must be a person in this workspace.');
  if (commander === deps.botUserId) throw invalid('invalid_user', 'Tandem keeps the timeline, but a person has to command the incident.');
  const incident = await changeIncident(deps, incidentId, actor, (current) => {
    ensureOpen(current);
    if (current.commander === commander) {
      throw conflict('unchanged', `<@${commander}> is already commanding ${incidentKey(current.number)}.`);
    }
    return { patch: { commander }, change: { kind: 'commander', from: current.commander, to: commander } };
  });
  if (incident.channelId) {
    for (const failure of await inviteToChannel(deps.slack, deps.botUserId, incident.channelId, [commander])) {
      deps.logger.warn({ incident: incident.number, error: slackErrorCode(failure.error) }, 'could not invite commander');
    }
  }
  return incident;
}

export function postUpdate(deps: IncidentDeps, incidentId: string, actor: string, text: string) {
  const update = text.trim();
  if (!update) throw invalid('text_required', 'An update needs some text.');
  return changeIncident(deps, incidentId, actor, (incident) => {
    ensureOpen(incident);
    return { patch: {}, change: { kind: 'update', text: update } };
  });
}

export function resolveIncident(deps: IncidentDeps, incidentId: string, actor: string, summary?: string) {
  return changeIncident(deps, incidentId, actor, (incident, now) => {
    ensureOpen(incident);
    const resolution = summary?.trim() || null;
    const timeToRestore = timeToRestoreSeconds({ declaredAt: incident.declaredAt, resolvedAt: now }) ?? 0;
    return {
      patch: { status: 'resolved', resolvedAt: now, resolution },
      change: { kind: 'resolved', timeToRestoreSeconds: timeToRestore, ...(resolution ? { summary: resolution } : {}) },
    };
  });
}

/**
 * Resolves the open incident a monitoring tool declared under `dedupKey`, or answers
 * undefined when none is open. A resolve that lands just after another (two
 * Alertmanager replicas) answers with the incident the first one resolved.
 */
export async function resolveByDedupKey(deps: IncidentDeps, dedupKey: string, actor: string, summary?: string): Promise<IncidentRow | undefined> {
  const open = await store.findOpenIncidentByDedupKey(deps.db, dedupKey);
  if (!open) return undefined;
  try {
    return await resolveIncident(deps, open.id, actor, summary);
  } catch (error) {
    if (!hasErrorCode(error, 'incident_resolved')) throw error;
    return requireIncident(deps.db, open.id);
  }
}

export async function createFollowUp(
  deps: IncidentDeps,
  input: { incidentId: string; actor: string; title: string; description?: string; requestKey?: string },
): Promise<{ problem: ProblemRow; incident: IncidentRow }> {
  const title = input.title.trim();
  if (!title) throw invalid('title_required', 'A follow-up needs a title.');
  const result = await deps.db.transaction(async (tx) => {
    const incident = await store.lockIncident(tx, input.incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    const repeat = input.requestKey ? await store.findProblemByRequestKey(tx, input.requestKey) : undefined;
    if (repeat) return { problem: repeat, incident };
    const now = deps.clock.now();
    const problem = await store.insertProblem(tx, {
      incidentId: incident.id,
      title,
      description: input.description?.trim() || null,
      createdBy: input.actor,
      requestKey: input.requestKey ?? null,
      createdAt: now,
    });
    if (!problem) throw conflict('follow_up_conflict', 'That follow-up was just created.');
    const change: IncidentChange = { kind: 'follow_up', problemNumber: problem.number, title };
    await recordChange(tx, deps, incident, change, input.actor, now, { problem: problem.id, key: problemKey(problem.number) });
    return { problem, incident };
  });
  deps.outbox.kick();
  return result;
}

/** Writes a change to the timeline and queues its announcements, in the caller's transaction. */
async function recordChange(
  tx: Database,
  deps: IncidentDeps,
  incident: IncidentRow,
  change: IncidentChange,
  actor: string,
  at: Date,
  data: Record<string, unknown>,
): Promise<void> {
  const event = await store.appendEvent(tx, { incidentId: incident.id, at, actor, kind: change.kind, text: describeChange(change), data });
  const service = incident.service ? findService(deps.catalog, incident.service) : undefined;
  await enqueue(tx, deps.clock, noticesFor(incident, service, change, actor, `event-${event.id}`, true));
}

/** Re-renders the pinned summary from the current row. Best effort: the next change renders it again. */
export async function refreshSummary(deps: IncidentDeps, incidentId: string): Promise<void> {
  const incident = await store.findIncidentById(deps.db, incidentId);
  if (!incident?.channelId || !incident.summaryTs) return;
  try {
    await deps.slack.chat.update({ channel: incident.channelId, ts: incident.summaryTs, ...summaryMessage(incident) });
  } catch (error) {
    deps.logger.warn({ incident: incident.number, error: slackErrorCode(error) }, 'could not refresh incident summary');
  }
}

/** The posts one change causes: the swarm channel, the service's incidents channel, its customers. */
export function noticesFor(
  incident: IncidentRow,
  service: ServiceConfig | undefined,
  change: IncidentChange,
  actor: string,
  key: string,
  inChannel: boolean,
): OutboxMessage[] {
  const messages: OutboxMessage[] = [];
  const post = (channel: string, message: { text: string; blocks?: unknown[] }) =>
    messages.push({
      topic: noticeTopic,
      ref: incident.id,
      method: 'chat.postMessage',
      args: { channel, ...message, unfurl_links: false },
      dedupKey: `incident:${incident.id}:${key}:${channel}`,
    });
  if (inChannel && incident.channelId) post(incident.channelId, channelNote(incident, change, actor));
  // Private incidents stay in their channel: announcing them would defeat the point.
  if (incident.private || !service) return messages;
  const stakeholderMessage = announcement(incident, change, actor);
  if (service.channels.incidents && stakeholderMessage) post(service.channels.incidents, stakeholderMessage);
  const customerMessage = customerNotice(incident, change);
  if (customerMessage) for (const channel of service.channels.customers) post(channel, customerMessage);
  return messages;
}

/** Records a notice that could not be delivered on the incident's timeline. */
export async function recordUndeliveredNotice(deps: IncidentDeps, incidentId: string, channel: string, error: string) {
  await store.appendEvent(deps.db, {
    incidentId,
    at: deps.clock.now(),
    actor: 'tandem',
    kind: 'slack_error',
    text: `Could not post to <#${channel}>: ${error}`,
    data: { step: 'notify', channel, error },
  });
}

export async function requireIncident(db: Database, id: string): Promise<IncidentRow> {
  const incident = await store.findIncidentById(db, id);
  if (!incident) throw notFound('incident_not_found', 'That incident does not exist.');
  return incident;
}

/** Finds an incident by its id or its key (`INC-17`). */
export function findIncidentByReference(db: Database, reference: string): Promise<IncidentRow | undefined> {
  return findByReference(reference, 'INC', {
    byId: (id) => store.findIncidentById(db, id),
    byNumber: (number) => store.findIncidentByNumber(db, number),
  });
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
