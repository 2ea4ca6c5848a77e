import { describe, expect, it } from 'vitest';
import type { CustomerRequestRow, DigestSubscriptionRow, OutboxRow, SprintDigestRow, SprintFeatureRow } from '../../src/db/schema';
import { digestPosts, digestTopic, digestUpdate, requestShippedReplies, staleRequestsNotices, subscriptionDisabledNotices } from '../../src/sprints/messaging';

const digestId = '5b0c1f4e-8a57-4b8e-9a51-0c1f4e8a57b8';
const digest = { id: digestId, channel: 'C0ACME', messageTs: null } as unknown as SprintDigestRow;
const message = { text: 'Sprint 42 (payments): 0 of 1 feature done', blocks: [] };

/** An outbox row as the worker hands it to a topic's handler. */
const row = (ref: string | null, method = 'chat.postMessage') => ({ id: 1, topic: digestTopic.name, ref, method, args: {} }) as unknown as OutboxRow;

describe('sprint outbox messages', () => {
  it('post a digest once per digest and update it once per revision, both by digest id', () => {
    expect(digestPosts([digest], message)).toEqual([
      {
        topic: 'sprint.digest',
        ref: digestId,
        method: 'chat.postMessage',
        args: { channel: 'C0ACME', ...message, unfurl_links: false },
        dedupKey: `sprint-digest:${digestId}`,
      },
    ]);
    expect(digestUpdate({ ...digest, messageTs: '1700000000.000100' }, message, 3)).toEqual({
      topic: 'sprint.digest',
      ref: digestId,
      method: 'chat.update',
      args: { channel: 'C0ACME', ts: '1700000000.000100', ...message },
      dedupKey: `sprint-digest:${digestId}:revision-3`,
    });
  });

  it('hand a digest row queued before typed topics back by its id, and ignore rows without one', async () => {
    const seen: string[] = [];
    const [topic, handler] = digestTopic.handler({ sent: async (id) => void seen.push(id), failed: async (id) => void seen.push(`failed ${id}`) });
    expect(topic).toBe('sprint.digest');
    await handler.sent!(row(digestId), { ok: true, ts: '1.2' });
    await handler.failed!(row(digestId, 'chat.update'), 'channel_not_found');
    await handler.sent!(row(null), { ok: true });
    await handler.sent!(row('not-a-digest'), { ok: true });
    expect(seen).toEqual([digestId, `failed ${digestId}`]);
  });

  it('reply in the thread of each request, and notify people without a payload', () => {
    const request = { id: '0e7f3a2b-1c4d-4e5f-8a9b-0c1d2e3f4a5b', number: 4, channel: 'C0ACME', messageTs: '1.5', text: 'PDF invoices?', permalink: null, createdAt: new Date('2026-11-19T10:00:00Z') } as CustomerRequestRow;
    const feature = { title: 'Export invoices as PDF', customerVisible: true } as SprintFeatureRow;
    expect(requestShippedReplies([request], feature)).toEqual([
      expect.objectContaining({
        topic: 'sprint.request',
        ref: request.id,
        args: expect.objectContaining({ channel: 'C0ACME', thread_ts: '1.5', unfurl_links: false }),
        dedupKey: `customer-request-shipped:${request.id}`,
      }),
    ]);

    const disabledAt = new Date('2026-11-23T09:00:00Z');
    const subscription = { id: 'S1', service: 'payments', channel: 'C0ACME', disabledAt } as DigestSubscriptionRow & { disabledAt: Date };
    const notices = [
      ...subscriptionDisabledNotices(subscription, ['U0OWNER', 'U0LEAD'], 'The channel was archived.'),
      ...staleRequestsNotices({ service: 'payments', days: 3, owners: ['U0OWNER'], job: 'customer-request-reminder:payments', periodKey: 'P1' }, [request]),
    ];
    expect(notices.map((notice) => [notice.topic, notice.ref, notice.args.channel, notice.dedupKey])).toEqual([
      ['sprint.notice', undefined, 'U0OWNER', `sprint-subscription-disabled:S1:${disabledAt.toISOString()}:U0OWNER`],
      ['sprint.notice', undefined, 'U0LEAD', `sprint-subscription-disabled:S1:${disabledAt.toISOString()}:U0LEAD`],
      ['sprint.notice', undefined, 'U0OWNER', 'customer-request-reminder:payments:P1:U0OWNER'],
    ]);
  });
});
