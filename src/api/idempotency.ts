import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { idempotencyKeys } from '../db/schema';
import { TandemError } from '../errors';
import type { Clock } from '../time';
import { ApiError, toErrorEnvelope } from './errors';

export interface StoredResponse {
  status: number;
  body: unknown;
  replayed?: boolean;
}

const lockMs = 60_000;

export const requestFingerprint = (method: string, path: string, rawBody: string) =>
  createHash('sha256').update(`${method} ${path}\n${rawBody}`).digest('hex');

/**
 * Runs a POST at most once per (token, Idempotency-Key): a retry gets the first
 * answer back. Outcomes the client caused (2xx, 4xx) are kept; an unexpected
 * failure releases the key so the retry runs again.
 */
export async function runOnce(
  db: Database,
  clock: Clock,
  scope: { tokenId: string; key: string; fingerprint: string },
  run: () => Promise<StoredResponse>,
): Promise<StoredResponse> {
  const now = clock.now();
  const where = and(eq(idempotencyKeys.tokenId, scope.tokenId), eq(idempotencyKeys.key, scope.key));
  const claimed = await db
    .insert(idempotencyKeys)
    .values({ ...scope, createdAt: now, lockedUntil: new Date(now.getTime() + lockMs) })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });

  if (claimed.length === 0) {
    const existing = await db.query.idempotencyKeys.findFirst({ where });
    if (!existing) throw new ApiError(409, 'request_in_progress', 'A request with this Idempotency-Key is finishing; retry in a moment.');
    if (existing.fingerprint !== scope.fingerprint) {
      throw new ApiError(
        422,
        'idempotency_key_reused',
        'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
      );
    }
    if (existing.responseStatus !== null) {
      return { status: existing.responseStatus, body: existing.responseBody, replayed: true };
    }
    if (existing.lockedUntil > now) {
      throw new ApiError(409, 'request_in_progress', 'A request with this Idempotency-Key is still running; retry in a moment.');
    }
    // The first attempt died without answering; take its place.
    const taken = await db
      .update(idempotencyKeys)
      .set({ lockedUntil: new Date(now.getTime() + lockMs) })
      .where(and(where, eq(idempotencyKeys.lockedUntil, existing.lockedUntil)))
      .returning({ key: idempotencyKeys.key });
    if (taken.length === 0) {
      throw new ApiError(409, 'request_in_progress', 'A request with this Idempotency-Key is still running; retry in a moment.');
    }
  }

  try {
    const response = await run();
    await db.update(idempotencyKeys).set({ responseStatus: response.status, responseBody: response.body }).where(where);
    return response;
  } catch (error) {
    const envelope = error instanceof TandemError || error instanceof ApiError ? toErrorEnvelope(error) : undefined;
    // A refusal is the answer to replay; an outage (5xx) is not, so the retry runs again.
    if (envelope && envelope.status < 500) {
      await db.update(idempotencyKeys).set({ responseStatus: envelope.status, responseBody: envelope.body }).where(where);
    } else {
      await db.delete(idempotencyKeys).where(where);
    }
    throw error;
  }
}
