import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/api/tokens';
import { idempotencyKeys, slackDeliveries, slackOutbox } from '../../src/db/schema';
import { pruneExpiredRecords } from '../../src/jobs/housekeeping';
import { TestClock } from '../support/clock';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('housekeeping', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(() => database.drop());

  it('forgets retry keys after a day and sent messages after a week, and nothing else', async () => {
    const { db } = database.handle;
    const clock = new TestClock('2026-11-23T12:00:00Z');
    const hoursAgo = (hours: number) => new Date(clock.now().getTime() - hours * 3_600_000);
    const { record } = await createApiToken(db, clock, { name: 'ci', scopes: ['read'] });
    await db.insert(slackDeliveries).values([
      { key: 'old', receivedAt: hoursAgo(25) },
      { key: 'recent', receivedAt: hoursAgo(23) },
    ]);
    await db.insert(idempotencyKeys).values([
      { tokenId: record.id, key: 'old', fingerprint: 'f', createdAt: hoursAgo(25), lockedUntil: hoursAgo(25) },
      { tokenId: record.id, key: 'recent', fingerprint: 'f', createdAt: hoursAgo(1), lockedUntil: hoursAgo(1) },
    ]);
    const message = { topic: 't', method: 'chat.postMessage', args: {}, notBefore: hoursAgo(200), createdAt: hoursAgo(200) };
    await db.insert(slackOutbox).values([
      { ...message, status: 'sent', sentAt: hoursAgo(24 * 8), dedupKey: 'sent-old' },
      { ...message, status: 'sent', sentAt: hoursAgo(24 * 6), dedupKey: 'sent-recent' },
      { ...message, status: 'pending', dedupKey: 'pending-old' },
      { ...message, status: 'failed', dedupKey: 'failed-old' },
    ]);

    await pruneExpiredRecords(db, clock);

    expect((await db.select().from(slackDeliveries)).map((row) => row.key)).toEqual(['recent']);
    expect((await db.select().from(idempotencyKeys)).map((row) => row.key)).toEqual(['recent']);
    expect((await db.select().from(slackOutbox)).map((row) => row.dedupKey).sort()).toEqual(['failed-old', 'pending-old', 'sent-recent']);
  });
});
