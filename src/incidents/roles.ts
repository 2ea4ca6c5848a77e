import type { IncidentRow } from '../db/schema';
import { conflict, invalid, notFound } from '../errors';
import { slackErrorCode } from '../slack/errors';
import { isSlackUserId } from '../slack/text';
import { unitOfWork } from '../unit-of-work';
import { inviteToChannel } from './channel-invites';
import type { IncidentDeps } from './deps';
import { assignCommander, ensureOpen } from './lifecycle';
import { incidentKey } from './model';
import { recordChange, refreshSummary } from './notices';
import * as rhythmStore from './rhythm-store';
import { roleNamesText } from './role-holders';
import * as store from './store';

/**
 * Roles: the commander (on the incident row) plus the catalog's `incidents.roles`
 * (comms, scribe, …). Each change is on the timeline, posted in the channel,
 * announced like any other change, and shown on the pinned summary.
 */

/** `/incident role <role> @user`: commander goes to the commander command; an unknown role is refused, naming the roles there are. */
export async function assignRole(deps: IncidentDeps, incidentId: string, actor: string, role: string, user: string): Promise<IncidentRow> {
  const name = role.trim().toLowerCase();
  if (name === 'commander') return assignCommander(deps, incidentId, actor, user);
  if (!deps.catalog.incidents.roles.includes(name)) {
    throw invalid('unknown_role', `\`${role}\` is not an incident role. The roles are ${roleNamesText(deps)}.`);
  }
  if (!isSlackUserId(user)) throw invalid('invalid_user', `The ${name} must be a person in this workspace: mention them, for example \`/incident role ${name} @alex\`.`);
  if (user === deps.botUserId) throw invalid('invalid_user', `Tandem keeps the timeline, but a person has to be ${name}.`);
  const incident = await unitOfWork(deps, async (work) => {
    const current = await store.lockIncident(work.tx, incidentId);
    if (!current) throw notFound('incident_not_found', 'That incident no longer exists.');
    ensureOpen(current);
    const held = await rhythmStore.findRole(work.tx, current.id, name);
    if (held?.userId === user) throw conflict('unchanged', `<@${user}> is already ${name} of ${incidentKey(current.number)}.`);
    const now = deps.clock.now();
    await rhythmStore.saveRole(work.tx, { incidentId: current.id, role: name, userId: user, assignedBy: actor, assignedAt: now });
    const row = await store.updateIncident(work.tx, current.id, { updatedAt: now });
    const change = { kind: 'role', role: name, from: held?.userId ?? null, to: user } as const;
    await recordChange(work, deps, row, change, actor, now, { ...change });
    work.emit({ kind: 'incident', incident: row });
    return row;
  });
  deps.background.run(() => refreshSummary(deps, incident.id));
  if (incident.channelId) {
    for (const failure of await inviteToChannel(deps.slack, deps.botUserId, incident.channelId, [user])) {
      deps.logger.warn({ incident: incident.number, error: slackErrorCode(failure.error) }, `could not invite the ${name}`);
    }
  }
  return incident;
}
