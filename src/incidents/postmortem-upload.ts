import type { IncidentPostmortemRow } from '../db/schema';
import { backoffMs, classifyDeliveryError } from '../slack/delivery-errors';
import { slackErrorCode } from '../slack/errors';
import type { IncidentDeps } from './deps';
import { incidentKey } from './model';
import { loadPostmortem, postmortemFilename } from './postmortem';
import * as store from './store';

/**
 * Posts the postmortem draft to the incident channel as a file, through Slack's
 * external upload flow (files.upload is retired): files.getUploadURLExternal, the
 * bytes to its upload_url, files.completeUploadExternal with the channel. Each step
 * records its result before the next, so a retry repeats none that succeeded and the
 * channel gets one file. Failures that may pass (429, 5xx, network) retry with backoff.
 */

const leaseMs = 120_000;
/** After this many attempts a failure that keeps coming back is recorded and the upload stops. */
const maxAttempts = 12;

/** Uploads every due postmortem; run after a resolve and on a schedule. */
export async function uploadDuePostmortems(deps: IncidentDeps): Promise<void> {
  const now = deps.clock.now();
  const claimed = await store.claimDuePostmortems(deps.db, now, new Date(now.getTime() + leaseMs), 10);
  for (const row of claimed) await uploadPostmortem(deps, row);
}

class UploadUrlFailed extends Error {
  constructor(readonly status: number) {
    super(`upload URL answered ${status}`);
  }
}

async function uploadPostmortem(deps: IncidentDeps, claimed: IncidentPostmortemRow): Promise<void> {
  let row = claimed;
  const incident = await store.findIncidentById(deps.db, row.incidentId);
  if (!incident?.channelId) {
    await store.updatePostmortem(deps.db, row.incidentId, { state: 'done', lastError: 'no_channel', lockedUntil: null });
    return;
  }
  const client = deps.durableSlack;
  try {
    if (!row.fileId || !row.uploadUrl || !row.content) {
      const content = row.content ?? (await loadPostmortem(deps, incident));
      const answer = await client.files.getUploadURLExternal({ filename: postmortemFilename(incident), length: Buffer.byteLength(content) });
      if (!answer.file_id || !answer.upload_url) throw new Error('files.getUploadURLExternal answered without a file');
      row = await store.updatePostmortem(deps.db, row.incidentId, { content, fileId: answer.file_id, uploadUrl: answer.upload_url, uploaded: false });
    }
    if (!row.uploaded) {
      const response = await fetch(row.uploadUrl!, {
        method: 'POST',
        headers: { 'content-type': 'text/markdown; charset=utf-8' },
        body: row.content!,
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new UploadUrlFailed(response.status);
      row = await store.updatePostmortem(deps.db, row.incidentId, { uploaded: true });
    }
    await client.files.completeUploadExternal({
      files: [{ id: row.fileId!, title: `${incidentKey(incident.number)} postmortem draft` }],
      channel_id: incident.channelId,
      initial_comment: `📄 The postmortem draft of ${incidentKey(incident.number)}: fill in the causes and lessons.`,
    });
    await store.updatePostmortem(deps.db, row.incidentId, { state: 'done', lockedUntil: null, lastError: null });
  } catch (error) {
    await failed(deps, row, error);
  }
}

async function failed(deps: IncidentDeps, row: IncidentPostmortemRow, error: unknown): Promise<void> {
  let retry: { afterMs: number; error: string } | undefined;
  let patch: Parameters<typeof store.updatePostmortem>[2] = {};
  let reason: string;
  if (error instanceof UploadUrlFailed) {
    // 5xx: the same URL is tried again. 4xx: the URL is spent or expired, so a new one is asked for.
    reason = `upload_http_${error.status}`;
    retry = { afterMs: backoffMs(row.attempts), error: reason };
    if (error.status < 500) patch = { fileId: null, uploadUrl: null, uploaded: false };
  } else {
    const outcome = classifyDeliveryError(error, row.attempts);
    reason = outcome.kind === 'sent' ? 'unknown_error' : outcome.error;
    if (outcome.kind === 'retry') retry = outcome;
    else if (slackErrorCode(error) === 'file_not_found') {
      // Slack no longer knows the upload (it expired): start again with a new one.
      retry = { afterMs: backoffMs(row.attempts), error: reason };
      patch = { fileId: null, uploadUrl: null, uploaded: false };
    }
  }
  if (!retry || row.attempts >= maxAttempts) {
    await store.updatePostmortem(deps.db, row.incidentId, { state: 'done', lockedUntil: null, lastError: reason });
    await recordFailure(deps, row.incidentId, reason);
    return;
  }
  deps.logger.warn({ incident: row.incidentId, error: reason }, 'postmortem upload postponed');
  await store.updatePostmortem(deps.db, row.incidentId, {
    ...patch,
    lockedUntil: null,
    lastError: reason,
    notBefore: new Date(deps.clock.now().getTime() + retry.afterMs),
  });
}

async function recordFailure(deps: IncidentDeps, incidentId: string, error: string): Promise<void> {
  await store.appendEvent(deps.db, {
    incidentId,
    at: deps.clock.now(),
    actor: 'tandem',
    kind: 'slack_error',
    text: `Could not post the postmortem draft: ${error}`,
    data: { step: 'postmortem', error },
  });
}
