import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { digestSubscriptions, scheduledRuns } from '../../src/db/schema';
import { TestClock } from '../support/clock';
import { type Harness, startHarness } from '../support/harness';

const customers = Array.from({ length: 12 }, (_, index) => `C0CUST${String(index).padStart(2, '0')}`);
const catalog = `
services:
  payments:
    owners: [U0OWNER]
    channels: { incidents: C0PAYINC, customers: [C0ACME, ${customers.join(', ')}] }
`;
const owner = 'U0OWNER';

describe('scheduled sprint digests', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    // Instances started alongside stop first; the first one drops the database.
    for (const harness of harnesses.reverse()) await harness.stop();
    harnesses.length = 0;
  });

  const start = async (at: string, alongside?: Harness) => {
    const harness = await startHarness(alongside ? { alongside } : { catalog, clock: new TestClock(at) });
    harnesses.push(harness);
    return harness;
  };
  const command = async (t: Harness, text: string, user = owner) => {
    await t.simulator.command(user, 'C0PAYINC', '/sprint', text);
    await t.idle();
    return t.slack.ephemeralsFor(user).at(-1)?.text ?? '';
  };
  const tick = async (t: Harness) => {
    await t.tandem.scheduler.run('sprint-digests');
    await t.idle();
  };
  const posts = (t: Harness, channel = 'C0ACME') => t.slack.messagesIn(channel);

  it('posts once per period of the subscription’s schedule, and never a period from before it subscribed', async () => {
    // Wednesday: the Monday that just passed belongs to no subscription yet.
    const t = await start('2026-11-18T12:00:00Z');
    await command(t, 'subscribe <#C0ACME|acme>');
    await command(t, 'start Sprint 42 2026-11-16 2026-11-27');
    await tick(t);
    expect(posts(t)).toHaveLength(1); // the sprint start

    t.clock.set('2026-11-23T08:59:59Z');
    await tick(t);
    expect(posts(t)).toHaveLength(1);
    t.clock.set('2026-11-23T09:00:00Z');
    await tick(t);
    await tick(t);
    t.clock.set('2026-11-23T17:00:00Z');
    await tick(t);
    expect(posts(t)).toHaveLength(2);

    // Changes during the period update that period's message, not the sprint-start one.
    await command(t, 'add Export invoices as PDF');
    const [first, second] = posts(t);
    expect(first!.edited).toBe(false);
    expect(second!.edited).toBe(true);
    expect(JSON.stringify(second!.blocks)).toContain('Export invoices as PDF');

    t.clock.set('2026-11-30T09:00:30Z');
    await tick(t);
    expect(posts(t)).toHaveLength(3);
  });

  it('posts the final state once after the sprint ends, then rests until the next sprint starts', async () => {
    const t = await start('2026-11-18T12:00:00Z');
    await command(t, 'subscribe <#C0ACME|acme>');
    await command(t, 'start Sprint 42 2026-11-16 2026-11-27');
    for (const monday of ['2026-11-23', '2026-11-30', '2026-12-07', '2026-12-14']) {
      t.clock.set(`${monday}T09:00:00Z`);
      await tick(t);
    }
    expect(posts(t)).toHaveLength(3); // start, the 23rd, the 30th with the final state
    await command(t, 'start Sprint 43 2026-12-14 2026-12-25');
    expect(posts(t)).toHaveLength(4);
    expect(posts(t).at(-1)!.text).toContain('Sprint 43');
  });

  it('does not post without a sprint, and a sprint started later in the period takes the period', async () => {
    const t = await start('2026-11-20T12:00:00Z');
    await command(t, 'subscribe <#C0ACME|acme>');
    t.clock.set('2026-11-23T09:00:00Z');
    await tick(t);
    expect(posts(t)).toHaveLength(0);
    t.clock.set('2026-11-24T10:00:00Z');
    await command(t, 'start Sprint 42 2026-11-23 2026-12-04');
    await tick(t);
    expect(posts(t)).toHaveLength(1);
  });

  it('posts a period missed while no instance ran once on start-up, and only the latest one', async () => {
    const t = await start('2026-11-18T12:00:00Z');
    await command(t, 'subscribe <#C0ACME|acme>');
    await command(t, 'start Sprint 42 2026-11-16 2026-12-11');
    await t.tandem.stop();
    // Down over three Mondays.
    t.clock.set('2026-12-09T14:00:00Z');
    await t.restart();
    await t.idle();
    expect(posts(t)).toHaveLength(2);
    const runs = await t.database.handle.db.select().from(scheduledRuns);
    expect(runs.filter((run) => run.job.startsWith('sprint-digest:')).map((run) => run.period)).toEqual(['2026-12-07T09:00:00']);

    await t.restart();
    await t.idle();
    expect(posts(t)).toHaveLength(2);
  });

  it('follows 09:00 in the subscription’s time zone across daylight saving changes', async () => {
    const t = await start('2026-03-25T12:00:00Z');
    await command(t, 'subscribe <#C0ACME|acme> Europe/Berlin');
    await command(t, 'start Sprint 13 2026-03-23 2026-04-03');
    // Summer time from Sunday 29 March: Monday 09:00 in Berlin is 07:00 UTC, not 08:00.
    t.clock.set('2026-03-30T06:59:00Z');
    await tick(t);
    expect(posts(t)).toHaveLength(1);
    t.clock.set('2026-03-30T07:00:00Z');
    await tick(t);
    expect(posts(t)).toHaveLength(2);
    t.clock.set('2026-03-30T08:00:00Z');
    await tick(t);
    expect(posts(t)).toHaveLength(2);
  });

  it.skipIf(!inject('postgres'))('posts exactly once per subscription with two instances ticking on one database', async () => {
    const first = await start('2026-11-18T12:00:00Z');
    const second = await start('', first);
    for (const channel of customers) await command(first, `subscribe <#${channel}|${channel.toLowerCase()}>`);
    await command(first, 'start Sprint 42 2026-11-16 2026-12-11');
    const sprintStart = first.slack.messages.length;
    expect(sprintStart).toBe(customers.length);

    for (const monday of ['2026-11-23T09:00:00Z', '2026-11-30T09:00:00Z']) {
      first.clock.set(monday);
      await Promise.all([first, second, first, second].map((instance) => instance.tandem.scheduler.run('sprint-digests')));
      await Promise.all([first.idle(), second.idle()]);
    }
    await second.restart();
    await Promise.all([first.idle(), second.idle()]);
    for (const channel of customers) expect(first.slack.messagesIn(channel)).toHaveLength(3);
    expect(first.slack.callsOf('chat.postMessage')).toHaveLength(customers.length * 3);
  });

  it('checks the schedule, the time zone and who is asking before subscribing', async () => {
    const t = await start('2026-11-18T12:00:00Z');
    expect(await command(t, 'subscribe <#C0ACME|acme> 0 9 * *')).toContain('A schedule has 5 fields');
    expect(await command(t, 'subscribe <#C0ACME|acme> 0 9 * * 1 Mars/Olympus_Mons')).toBe(
      '`Mars/Olympus_Mons` is not a time zone. Use an IANA name such as Europe/Berlin, America/New_York or UTC.',
    );
    expect(await command(t, 'subscribe <#C0ACME|acme> 0 25 * * 1')).toContain('`0 25 * * 1` is not a valid schedule');
    expect(await command(t, 'subscribe <#C0ACME|acme> * * * * *')).toContain('fires more than once an hour');
    expect(await command(t, 'subscribe <#C0PAYINC|payments-incidents>')).toContain('<#C0PAYINC> is not a customer channel of any service');
    t.slack.addUser({ id: 'U0DEV', name: 'dev' });
    expect(await command(t, 'subscribe <#C0ACME|acme>', 'U0DEV')).toBe(
      'Only the owners and approvers of payments manage its digest subscriptions. Ask <@U0OWNER>.',
    );
    expect(await t.database.handle.db.select().from(digestSubscriptions)).toHaveLength(0);

    expect(await command(t, 'subscribe <#C0ACME|acme> 30 0 8 * * 1-5 America/New_York')).toContain(
      '<#C0ACME> gets the sprint digest of *payments*: `30 0 8 * * 1-5` in America/New_York, next <!date^1795006830^',
    );
    expect(await command(t, 'subscriptions')).toContain('• <#C0ACME>: `30 0 8 * * 1-5` in America/New_York');
    expect(await command(t, 'unsubscribe <#C0ACME|acme>', 'U0DEV')).toContain('Only the owners and approvers of payments');
    expect(await command(t, 'unsubscribe <#C0ACME|acme>')).toBe('🔕 <#C0ACME> no longer gets the sprint digest of *payments*.');
    expect(await command(t, 'unsubscribe <#C0ACME|acme>')).toBe('<#C0ACME> does not get the sprint digest of payments, so there is nothing to stop.');
    expect(await command(t, 'subscriptions')).toBe('No channel gets the sprint digest of payments. Subscribe one with `/sprint subscribe #channel`.');
  });

  it('waits as long as a 429 asks, then posts once, showing changes made meanwhile', async () => {
    const t = await start('2026-11-18T12:00:00Z');
    await command(t, 'subscribe <#C0ACME|acme>');
    t.slack.failNext('chat.postMessage', { rateLimitedFor: 30 });
    await command(t, 'start Sprint 42 2026-11-16 2026-12-11');
    await command(t, 'add Export invoices as PDF');
    t.clock.advance(29_000);
    await t.idle();
    expect(posts(t)).toHaveLength(0);
    t.clock.advance(1_000);
    await t.idle();
    expect(posts(t)).toHaveLength(1);
    expect(JSON.stringify(posts(t)[0]!.blocks)).toContain('Export invoices as PDF');
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(2);
  });

  it('retries a 5xx with backoff and never loses the digest', async () => {
    const t = await start('2026-11-18T12:00:00Z');
    await command(t, 'subscribe <#C0ACME|acme>');
    t.slack.failNext('chat.postMessage', { httpStatus: 503 }, 2);
    await command(t, 'start Sprint 42 2026-11-16 2026-12-11');
    // Backoff of about 1 s, then 2 s, before the third attempt goes through.
    for (const expected of [0, 0, 1]) {
      expect(posts(t)).toHaveLength(expected);
      t.clock.advance(3_000);
      await t.idle();
    }
    expect(posts(t)).toHaveLength(1);
    expect(t.slack.callsOf('chat.postMessage')).toHaveLength(3);
  });

  it('stops posting to a channel Slack refuses and tells the owners', async () => {
    const t = await start('2026-11-18T12:00:00Z');
    t.slack.addUser({ id: 'U0LEAD', name: 'lead' });
    await command(t, 'subscribe <#C0ACME|acme>');
    await command(t, `subscribe <#${customers[1]}|second>`);
    t.slack.channels.get('C0ACME')!.isArchived = true;
    await command(t, 'start Sprint 42 2026-11-16 2026-12-11');
    await command(t, 'add Export invoices as PDF');

    const [subscription] = await t.database.handle.db.select().from(digestSubscriptions).where(eq(digestSubscriptions.channel, 'C0ACME'));
    expect(subscription).toMatchObject({ disabledReason: 'is_archived', disabledAt: expect.any(Date) });
    const dms = t.slack.messagesIn(t.slack.imWith(owner).id);
    expect(dms.map((message) => message.text)).toEqual([
      '⚠️ I stopped posting the sprint digest of *payments* to <#C0ACME>. Slack said `is_archived`. The channel is archived. Once that is sorted, subscribe the channel again with `/sprint subscribe <#C0ACME>`.',
    ]);
    expect(posts(t, customers[1])).toHaveLength(1);

    t.clock.set('2026-11-23T09:00:00Z');
    await tick(t);
    expect(t.slack.callsOf('chat.postMessage').filter((call) => call.channel === 'C0ACME')).toHaveLength(1);
    expect(posts(t, customers[1])).toHaveLength(2);
  });
});
