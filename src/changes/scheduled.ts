import { approversOf, findService } from '../catalog';
import type { ChangeRow } from '../db/schema';
import { hasErrorCode } from '../errors';
import { unitOfWork } from '../unit-of-work';
import type { ChangeDeps } from './deps';
import { reminderMessage, reminderMessages } from './messaging';
import { mayVote, noLongerPending } from './model';
import { dayMs, hourMs } from '../time';
import * as store from './store';
import { closeChange } from './votes';

/** The change jobs on a schedule: reminding approvers, expiring what nobody decided. */

/** For a change whose service has left the catalog: the catalog's own defaults. */
const fallback = { remindAfterHours: 4, expireAfterDays: 7 };

/** Nudges approvers of changes waiting longer than their service's reminder interval, once per interval. */
export async function remindApprovers(deps: ChangeDeps): Promise<number> {
  const now = deps.clock.now();
  const intervalMs = (change: ChangeRow) => (findService(deps.catalog, change.service)?.approvers.remind_after_hours ?? fallback.remindAfterHours) * hourMs;
  const due = await store.claimDueReminders(
    deps.db,
    now,
    (change) => now.getTime() - (change.lastRemindedAt ?? change.requestedAt).getTime() >= intervalMs(change),
  );
  for (const change of due) {
    const service = findService(deps.catalog, change.service);
    if (!service) continue;
    await unitOfWork(deps, async ({ tx, send }) => {
      const voted = new Set((await store.listVotes(tx, change.id)).map((vote) => vote.voter));
      const waitingOn = [...approversOf(deps.catalog, service)].filter((user) => mayVote(deps.catalog, change, user) && !voted.has(user));
      const message = reminderMessage(change, Math.round((now.getTime() - change.requestedAt.getTime()) / hourMs), waitingOn);
      const posted = await store.listChangeMessages(tx, change.id);
      await send(reminderMessages(deps.catalog, change, posted, message, waitingOn, `remind-${now.toISOString()}`));
      await store.appendAudit(tx, { changeId: change.id, at: now, actor: 'policy', action: 'reminded', details: { waiting_on: waitingOn } });
    });
  }
  return due.length;
}

/** Cancels changes nobody decided within their service's expiry. */
export async function expireStaleChanges(deps: ChangeDeps): Promise<number> {
  const now = deps.clock.now();
  const shortest = Math.min(fallback.expireAfterDays, ...Object.values(deps.catalog.services).map((service) => service.approvers.expire_after_days));
  const candidates = await store.listPendingRequestedBefore(deps.db, new Date(now.getTime() - shortest * dayMs));
  let expired = 0;
  for (const candidate of candidates) {
    const days = findService(deps.catalog, candidate.service)?.approvers.expire_after_days ?? fallback.expireAfterDays;
    if (now.getTime() - candidate.requestedAt.getTime() < days * dayMs) continue;
    try {
      await closeChange(deps, candidate.id, 'policy', (change) => {
        if (change.status !== 'pending') throw noLongerPending(change);
        return `expired after ${days} days without a decision`;
      });
      expired += 1;
    } catch (error) {
      // Decided by someone else between the list and the lock: nothing to expire.
      if (!hasErrorCode(error, 'change_decided')) throw error;
    }
  }
  return expired;
}

/** The CAB agenda, once per period of the catalog's `cab` schedule (src/changes/cab.ts). */
export { postCabAgenda } from './cab';
