import type { IncidentRow } from '../db/schema';
import type { IncidentDeps } from './deps';
import * as rhythmStore from './rhythm-store';

/** Who holds an incident's roles, for the pinned summary and the API. */

/** Every role of an incident, commander first, with who holds it (null when nobody). */
export async function rolesOf(deps: Pick<IncidentDeps, 'db' | 'catalog'>, incident: IncidentRow): Promise<Array<{ role: string; userId: string | null }>> {
  const held = new Map((await rhythmStore.listRoles(deps.db, incident.id)).map((row) => [row.role, row.userId]));
  const names = [...deps.catalog.incidents.roles, ...[...held.keys()].filter((role) => !deps.catalog.incidents.roles.includes(role))];
  return [{ role: 'commander', userId: incident.commander }, ...names.map((role) => ({ role, userId: held.get(role) ?? null }))];
}

/** `roles: {commander, comms, …}` for the API. */
export async function rolesRecord(deps: Pick<IncidentDeps, 'db' | 'catalog'>, incident: IncidentRow): Promise<Record<string, string | null>> {
  return Object.fromEntries((await rolesOf(deps, incident)).map(({ role, userId }) => [role, userId]));
}

export function roleNamesText(deps: Pick<IncidentDeps, 'catalog'>): string {
  return ['commander', ...deps.catalog.incidents.roles].map((role) => `\`${role}\``).join(', ');
}
