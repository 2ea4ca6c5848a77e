import { type Catalog, findService } from '../catalog';
import type { Database } from '../db/client';
import type { ChangeRow } from '../db/schema';
import type { Message } from '../slack/blocks';
import type { OutboxMessage } from '../slack/outbox';
import type { ApprovalProgress } from './blocks';
import { approvalProgress, refreshedMessages, threadNoticeOf } from './messaging';
import * as store from './store';

/**
 * The steps every change use case shares, inside the caller's transaction: deciding,
 * failing and auditing a change, and reading what its messages need to be re-rendered.
 */

export function audit(tx: Database, change: ChangeRow, actor: string, action: string, at: Date, details: Record<string, unknown>) {
  return store.appendAudit(tx, { changeId: change.id, at, actor, action, details });
}

export async function decide(
  tx: Database,
  change: ChangeRow,
  decision: { status: 'approved' | 'rejected' | 'cancelled'; by: string[]; reason: string | null; at: Date },
  extra: store.ChangePatch = {},
): Promise<ChangeRow> {
  const decided = await store.updateChange(tx, change.id, {
    ...extra,
    status: decision.status,
    decidedAt: decision.at,
    decidedBy: decision.by,
    decisionReason: decision.reason,
    updatedAt: decision.at,
  });
  await audit(tx, decided, decision.by.join(','), decision.status, decision.at, { reason: decision.reason });
  return decided;
}

export async function markFailed(tx: Database, change: ChangeRow, reason: string, actor: string, now: Date): Promise<ChangeRow> {
  if (change.status === 'failed') return change;
  const failed = await store.updateChange(tx, change.id, { status: 'failed', failedAt: now, failureReason: reason, updatedAt: now });
  await audit(tx, failed, actor, 'failed', now, { reason });
  return failed;
}

export async function progressOf(db: Database, catalog: Catalog, change: ChangeRow): Promise<ApprovalProgress> {
  return approvalProgress(findService(catalog, change.service), await store.listVotes(db, change.id));
}

/** Re-renders every recorded approval message of a change, so buttons vanish once it is decided. */
export async function refreshMessages(tx: Database, catalog: Catalog, change: ChangeRow): Promise<OutboxMessage[]> {
  const progress = await progressOf(tx, catalog, change);
  return refreshedMessages(change, progress, await store.listChangeMessages(tx, change.id));
}

/** Posts a line in the thread of the approval request in the approvals channel, when there is one. */
export async function threadNotice(tx: Database, catalog: Catalog, change: ChangeRow, message: Message, key: string): Promise<OutboxMessage[]> {
  return threadNoticeOf(catalog, change, await store.listChangeMessages(tx, change.id), message, key);
}
