import type { ChangeRow } from '../db/schema';
import { changeKey } from '../changes/model';
import { clip } from './model';

/** What a gated run shows on GitHub: the comments of the protection rule's callbacks. */

/** The callback state of a decided change: a deployed or failed change was approved first. */
export function callbackState(change: ChangeRow): 'approved' | 'rejected' | undefined {
  if (change.status === 'approved' || change.status === 'deployed' || change.status === 'failed') return 'approved';
  if (change.status === 'rejected' || change.status === 'cancelled') return 'rejected';
  return undefined;
}

/** "CHG-42 approved by policy: …", "CHG-42 approved in Slack by Ada Lovelace and Alan Turing", "CHG-42 rejected in Slack by Grace Hopper: …". */
export function decisionComment(change: ChangeRow, deciders: string[]): string {
  const key = changeKey(change.number);
  const reason = change.decisionReason?.trim();
  if (change.status === 'cancelled') return clip(`${key} was cancelled in Tandem${reason ? `: ${reason}` : ''}`);
  const verb = callbackState(change) === 'approved' ? 'approved' : 'rejected';
  if ((change.decidedBy ?? []).includes('policy')) {
    // The policy's summaries open with their verdict ("Approved by policy: …"); the comment says it once.
    const summary = (change.policy?.summary ?? reason ?? 'the change policy decided').replace(/^(approved|rejected) by policy:\s*/i, '');
    return clip(`${key} ${verb} by policy: ${summary}`);
  }
  const who = deciders.length > 0 ? ` by ${listOf(deciders)}` : '';
  return clip(`${key} ${verb} in Slack${who}${verb === 'rejected' && reason ? `: ${reason}` : ''}`);
}

/** "CHG-42 waiting for 1 of 2 approvals in Slack": the approvals still needed of the quorum. */
export function waitingComment(change: ChangeRow, approvals: number, quorum: number): string {
  const key = changeKey(change.number);
  const remaining = Math.max(0, quorum - approvals);
  const why = change.type === 'standard' && change.policy ? ` (the policy asked for approvers: ${change.policy.summary})` : '';
  return clip(`${key} waiting for ${remaining} of ${quorum} approval${quorum === 1 ? '' : 's'} in Slack${why}`);
}

function listOf(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
