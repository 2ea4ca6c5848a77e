import type { IncidentRow } from '../db/schema';
import { conflict, hasErrorCode, invalid, notFound } from '../errors';
import { slackErrorCode } from '../slack/errors';
import { isSlackUserId } from '../slack/text';
import { unitOfWork } from '../unit-of-work';
import { inviteToChannel } from './channel-invites';
import type { IncidentDeps } from './deps';
import { requireIncident } from './lookup';
import { type IncidentChange, type IncidentStatus, incidentKey, isResolved, type Severity, severityLabel, timeToRestoreSeconds } from './model';
import { recordChange, refreshSummary } from './notices';
import { uploadDuePostmortems } from './postmortem-upload';
import * as store from './store';

/** The changes to an open incident: severity, status, commander, updates, resolution. */

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
  alsoInTransaction?: (tx: store.IncidentTx, row: IncidentRow, now: Date) => Promise<void>,
): Promise<IncidentRow> {
  const updated = await unitOfWork(deps, async (work) => {
    const incident = await store.lockIncident(work.tx, incidentId);
    if (!incident) throw notFound('incident_not_found', 'That incident no longer exists.');
    const now = deps.clock.now();
    const { patch, change } = decide(incident, now);
    const row = await store.updateIncident(work.tx, incident.id, { ...patch, updatedAt: now });
    await recordChange(work, deps, row, change, actor, now, change as unknown as Record<string, unknown>);
    await alsoInTransaction?.(work.tx, row, now);
    work.emit({ kind: 'incident', incident: row });
    return row;
  });
  deps.background.run(() => refreshSummary(deps, updated.id));
  return updated;
}

export function ensureOpen(incident: IncidentRow): void {
  if (isResolved(incident)) {
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

export async function resolveIncident(deps: IncidentDeps, incidentId: string, actor: string, summary?: string) {
  const resolved = await changeIncident(deps, incidentId, actor, (incident, now) => {
    ensureOpen(incident);
    const resolution = summary?.trim() || null;
    const timeToRestore = timeToRestoreSeconds({ declaredAt: incident.declaredAt, resolvedAt: now }) ?? 0;
    return {
      patch: { status: 'resolved', resolvedAt: now, resolution },
      change: { kind: 'resolved', timeToRestoreSeconds: timeToRestore, ...(resolution ? { summary: resolution } : {}) },
    };
  }, (tx, row, now) => store.queuePostmortem(tx, row.id, now));
  // The draft is posted to the channel as a file; the schedule retries what this run could not finish.
  deps.background.run(() => uploadDuePostmortems(deps));
  return resolved;
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
