import type { Catalog } from '../catalog';
import type { Database } from '../db/client';
import type { ChangeConflict, ChangeRow } from '../db/schema';
import type { OutboxMessage } from '../slack/outbox';
import { toPlainText, truncate } from '../slack/text';
import { changeKey } from './model';
import * as store from './store';
import { refreshMessages } from './transitions';
import { describeWindow, overlappingFreezes, windowOf } from './windows';

/**
 * A change's conflicts: computed in SQL when it is requested and again when it (or
 * a change overlapping it) is decided, stored on the row, shown wherever it is.
 */

/** At most this many conflicts are listed of one change; a message has little room and ten is plenty to say no. */
const conflictLimit = 10;

interface ConflictDeps {
  catalog: Catalog;
  timeZone: string;
}

/** What `change` conflicts with now. A private incident is named only as one, never by its key or title. */
export async function findConflicts(db: Database, deps: ConflictDeps, change: ChangeRow): Promise<ChangeConflict[]> {
  const window = windowOf(change);
  const rows = await store.findConflictRows(db, { changeId: change.id, service: change.service, window, limit: conflictLimit });
  const conflicts: ChangeConflict[] = rows.map((row) => {
    if (row.kind === 'change') {
      const other = row.plannedStart && row.plannedEnd ? ` (${describeWindow({ start: row.plannedStart, end: row.plannedEnd })})` : '';
      return {
        kind: 'change',
        key: changeKey(row.number),
        message: `${changeKey(row.number)} “${truncate(toPlainText(row.title), 80)}” (${row.status}) is planned on ${change.service} at an overlapping time${other}`,
      };
    }
    const severity = `SEV${row.severity}`;
    if (row.private) return { kind: 'incident', message: `an open ${severity} private incident on ${change.service}` };
    const key = `INC-${row.number}`;
    return { kind: 'incident', key, message: `${key} (${severity}) “${truncate(toPlainText(row.title), 80)}” is open on ${change.service}` };
  });
  if (window) {
    for (const freeze of overlappingFreezes(deps.catalog, change.service, window, deps.timeZone)) {
      const blocking = change.type !== 'emergency';
      conflicts.push({
        kind: 'freeze',
        message: `the planned window overlaps the freeze from ${freeze.from} to ${freeze.to}${freeze.reason ? ` (${freeze.reason})` : ''}${blocking ? '' : ': shown, as an emergency change may go ahead'}`,
        blocking,
      });
    }
  }
  return conflicts;
}

/** Recomputes and stores a change's conflicts. */
export async function recheckConflicts(tx: Database, deps: ConflictDeps, change: ChangeRow): Promise<ChangeRow> {
  const conflicts = await findConflicts(tx, deps, change);
  if (JSON.stringify(conflicts) === JSON.stringify(change.conflicts)) return change;
  return store.updateChange(tx, change.id, { conflicts });
}

/** How many neighbours are refreshed after one change moves: a busy service's window rarely has more. */
const neighbourLimit = 50;

/**
 * After `change` was requested, decided or cancelled, the open changes overlapping
 * it have their conflicts recomputed, and their approval messages re-rendered where
 * that changed what they show.
 */
export async function refreshNeighbours(tx: Database, deps: ConflictDeps, change: ChangeRow): Promise<OutboxMessage[]> {
  const messages: OutboxMessage[] = [];
  for (const neighbour of await store.listOverlappingOpenChanges(tx, change, neighbourLimit)) {
    const rechecked = await recheckConflicts(tx, deps, neighbour);
    if (rechecked !== neighbour) messages.push(...(await refreshMessages(tx, deps.catalog, rechecked)));
  }
  return messages;
}

/** The one line a requester or the policy gives for conflicts. */
export function conflictSummary(conflicts: ChangeConflict[]): string {
  return conflicts.map((conflict) => conflict.message).join('; ');
}
