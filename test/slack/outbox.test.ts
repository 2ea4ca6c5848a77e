import { WebClient } from '@slack/web-api';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { slackOutbox } from '../../src/db/schema';
import { createLogger } from '../../src/log';
import { FakeSlack } from '../../src/fake-slack';
import { enqueue, OutboxWorker } from '../../src/slack/outbox';
import { TestClock } from '../support/clock';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { interceptSlack, slackOrigin } from '../support/fake-slack';

let slack: FakeSlack;
const interceptor = interceptSlack(() => slack);
afterAll(() => interceptor.close());

describe('Slack outbox', () => {
  let database: TestDatabase;
  let clock: TestClock;
  const logger = createLogger('silent');
  const client = () =>
    new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const worker = (db = database.handle.db) => new OutboxWorker({ db, client: client(), clock, logger });
  const post = (channel: string, text: string, dedupKey?: string) => ({
    topic: 'test',
    method: 'chat.postMessage',
    args: { channel, text },
    ...(dedupKey ? { dedupKey } : {}),
  });

  beforeEach(async () => {
    slack = new FakeSlack({ origin: slackOrigin });
    slack.addChannel({ id: 'C0A', name: 'a' });
    slack.addChannel({ id: 'C0B', name: 'b' });
    database = await createTestDatabase();
    clock = new TestClock();
  });
  afterEach(() => database.drop());

  const texts = (channel: string) => slack.messagesIn(channel).map((message) => message.text);

  it('waits as long as a 429 asks, holding back that channel only, and keeps the order', async () => {
    await enqueue(database.handle.db, clock, [post('C0A', 'a1'), post('C0A', 'a2'), post('C0B', 'b1')]);
    slack.failNext('chat.postMessage', { rateLimitedFor: 30 });
    const outbox = worker();
    await outbox.drain();
    expect(texts('C0A')).toEqual([]);
    expect(texts('C0B')).toEqual(['b1']);

    clock.advance(29_000);
    await outbox.drain();
    expect(texts('C0A')).toEqual([]);

    clock.advance(1_000);
    await outbox.drain();
    expect(texts('C0A')).toEqual(['a1', 'a2']);
  });

  it('retries server errors with growing backoff and never drops the message', async () => {
    await enqueue(database.handle.db, clock, [post('C0A', 'eventually')]);
    slack.failNext('chat.postMessage', { httpStatus: 503 }, 3);
    const outbox = worker();
    const waits: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await outbox.drain();
      const [row] = await database.handle.db.select().from(slackOutbox);
      if (row!.status === 'sent') break;
      const wait = row!.notBefore.getTime() - clock.now().getTime();
      waits.push(wait);
      clock.advance(wait);
    }
    expect(texts('C0A')).toEqual(['eventually']);
    expect(waits).toHaveLength(3);
    expect(waits[1]!).toBeGreaterThan(waits[0]!);
    expect(waits[2]!).toBeGreaterThan(waits[1]!);
  });

  it('gives up on a permanent error, tells the topic, and sends what follows', async () => {
    const failures: string[] = [];
    const sent: unknown[] = [];
    const outbox = worker();
    outbox.on('test', {
      failed: async (row, error) => void failures.push(`${row.channel}:${error}`),
      sent: async (_row, response) => void sent.push(response),
    });
    slack.channels.get('C0A')!.isArchived = true;
    await enqueue(database.handle.db, clock, [post('C0A', 'lost'), post('C0B', 'fine')]);
    await outbox.drain();
    expect(failures).toEqual(['C0A:is_archived']);
    expect(sent).toEqual([{ channel: 'C0B', ts: expect.any(String) }]);
    const rows = await database.handle.db.select().from(slackOutbox).orderBy(asc(slackOutbox.id));
    expect(rows.map((row) => [row.status, row.lastError])).toEqual([
      ['failed', 'is_archived'],
      ['sent', null],
    ]);
  });

  it('pauses every channel when several are rate limited at once, as the workspace is at its limit', async () => {
    for (const id of ['C0C', 'C0D', 'C0E']) slack.addChannel({ id, name: id.toLowerCase() });
    await enqueue(database.handle.db, clock, ['C0A', 'C0B', 'C0C', 'C0D', 'C0E'].map((channel) => post(channel, `to ${channel}`)));
    slack.failNext('chat.postMessage', { rateLimitedFor: 2 }, 3);
    const outbox = new OutboxWorker({ db: database.handle.db, client: client(), clock, logger, concurrency: 1 });
    await outbox.drain();
    // Three channels refused in a row: the other two wait too instead of earning 429s of their own.
    expect(slack.messages).toHaveLength(0);
    expect(slack.callsOf('chat.postMessage')).toHaveLength(3);
    clock.advance(2_000);
    await outbox.drain();
    expect(slack.messages.map((message) => message.text).sort()).toEqual(['to C0A', 'to C0B', 'to C0C', 'to C0D', 'to C0E']);
    const rows = await database.handle.db.select().from(slackOutbox);
    expect(rows.map((row) => row.attempts).sort()).toEqual([1, 1, 2, 2, 2]);
    await outbox.stop();
  });

  it('drops a second message with the same dedup key', async () => {
    await enqueue(database.handle.db, clock, [post('C0A', 'once', 'k1')]);
    await enqueue(database.handle.db, clock, [post('C0A', 'once', 'k1')]);
    await worker().drain();
    expect(texts('C0A')).toEqual(['once']);
  });

  it.skipIf(!inject('postgres'))('sends each message exactly once with two instances draining together', async () => {
    const messages = Array.from({ length: 120 }, (_, index) => post(index % 2 ? 'C0A' : 'C0B', `m${index}`));
    await enqueue(database.handle.db, clock, messages);
    const second = await database.openAnother();
    await Promise.all([worker().drain(), worker(second.db).drain(), worker().drain()]);
    const all = slack.messages.map((message) => message.text);
    expect(all).toHaveLength(120);
    expect(new Set(all).size).toBe(120);
    // Each channel's messages arrive in the order they were written.
    const order = (channel: string) => texts(channel).map((text) => Number(text.slice(1)));
    expect(order('C0A')).toEqual([...order('C0A')].sort((a, b) => a - b));
    expect(order('C0B')).toEqual([...order('C0B')].sort((a, b) => a - b));
  });

  const rows = () => database.handle.db.select().from(slackOutbox).orderBy(asc(slackOutbox.id));
  const waitUntil = async (condition: () => boolean) => {
    for (let waited = 0; !condition(); waited += 20) {
      if (waited > 5_000) throw new Error('condition not met in 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('leases a message it sends for seconds, so a crashed instance holds up its channel briefly', async () => {
    await enqueue(database.handle.db, clock, [post('C0A', 'in flight')]);
    slack.failNext('chat.postMessage', { delayMs: 1_000 });
    const sending = worker().drain();
    await waitUntil(() => slack.callsOf('chat.postMessage').length === 1);
    const [claimed] = await rows();
    const leaseLeft = claimed!.lockedUntil!.getTime() - clock.now().getTime();
    expect(leaseLeft).toBeGreaterThan(0);
    expect(leaseLeft).toBeLessThanOrEqual(15_000);
    await sending;
    expect(texts('C0A')).toEqual(['in flight']);
  });

  it('renews the lease of a call Slack is slow to answer, so no other instance sends it again', async () => {
    await enqueue(database.handle.db, clock, [post('C0A', 'slow')]);
    slack.failNext('chat.postMessage', { delayMs: 3_500 });
    const first = worker();
    const sending = first.drain();
    await waitUntil(() => slack.callsOf('chat.postMessage').length === 1);
    // Past the first lease: only a renewal keeps the row from a second instance.
    clock.advance(12_000);
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    const [leased] = await rows();
    expect(leased!.lockedUntil!.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(leased!.lockedUntil!.getTime()).toBeLessThanOrEqual(clock.now().getTime() + 15_000);
    await worker().drain();
    await sending;
    expect(slack.callsOf('chat.postMessage')).toHaveLength(1);
    expect(texts('C0A')).toEqual(['slow']);
    expect((await rows())[0]).toMatchObject({ status: 'sent', lockedUntil: null });
  });

  it('stops promptly with a slow Slack: finishes the calls in flight and hands back the rest', async () => {
    const channels = Array.from({ length: 20 }, (_, index) => `C1${String(index).padStart(2, '0')}`);
    for (const id of channels) slack.addChannel({ id, name: id.toLowerCase() });
    // Two messages per channel: the second is claimable only once the first is settled.
    await enqueue(database.handle.db, clock, [...channels, ...channels].map((channel) => post(channel, `to ${channel}`)));
    slack.failNext('chat.postMessage', { delayMs: 500 }, 40);
    const outbox = new OutboxWorker({ db: database.handle.db, client: client(), clock, logger, concurrency: 4 });
    outbox.start();
    await waitUntil(() => slack.callsOf('chat.postMessage').length === 4);
    const started = performance.now();
    await outbox.stop();
    const stoppedInMs = performance.now() - started;
    expect(stoppedInMs).toBeLessThan(1_000);
    const after = await rows();
    expect(after.filter((row) => row.status === 'sent')).toHaveLength(4);
    const pending = after.filter((row) => row.status === 'pending');
    expect(pending).toHaveLength(36);
    // Nothing stays leased: another instance (or the next start) sends the rest at once, none twice.
    expect(pending.every((row) => row.lockedUntil === null && row.attempts === 0)).toBe(true);
    await worker().drain();
    expect(slack.messages).toHaveLength(40);
    expect(slack.callsOf('chat.postMessage')).toHaveLength(40);
  });
});
