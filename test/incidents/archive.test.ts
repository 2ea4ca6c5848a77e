import { asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { incidentEvents, incidents } from '../../src/db/schema';
import { TestClock } from '../support/clock';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    channels: { incidents: C0INCIDENTS }
`;
const alice = 'U0ALICE';

describe('archiving resolved incident channels', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const harness of harnesses.reverse()) await harness.stop();
    harnesses.length = 0;
  });

  let t: Harness;
  let channel: string;
  let incidentId: string;

  /** Declares on 23 November at 09:00 and resolves at 10:00. */
  const start = async (options: { catalog?: string; declare?: string; resolve?: boolean } = {}) => {
    t = await startHarness({
      catalog: options.catalog ?? catalog,
      clock: new TestClock('2026-11-23T09:00:00Z'),
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice] });
      },
    });
    harnesses.push(t);
    await t.simulator.command(alice, 'C0GENERAL', '/incident', options.declare ?? 'Checkout failing service=payments');
    await t.idle();
    const [row] = await t.database.handle.db.select().from(incidents);
    channel = row!.channelId!;
    incidentId = row!.id;
    if (options.resolve !== false) {
      t.clock.set('2026-11-23T10:00:00Z');
      await t.simulator.command(alice, channel, '/incident', 'resolve Rolled back');
      await t.idle();
    }
    return t;
  };
  const tickAt = async (time: string, harness = t) => {
    harness.clock.set(time);
    await harness.tandem.scheduler.run('incident-archive');
    await harness.idle();
  };
  const archiveCalls = () => t.slack.callsOf('conversations.archive');
  const incident = async () => (await t.database.handle.db.select().from(incidents).where(eq(incidents.id, incidentId)))[0]!;
  const events = async (kind: string) =>
    (await t.database.handle.db.select().from(incidentEvents).where(eq(incidentEvents.incidentId, incidentId)).orderBy(asc(incidentEvents.id))).filter(
      (event) => event.kind === kind,
    );

  it('archives seven days after resolution, after a last message, once', async () => {
    await start();
    await tickAt('2026-11-29T10:00:00Z');
    await tickAt('2026-11-30T09:59:59Z');
    expect(archiveCalls()).toHaveLength(0);
    expect(t.slack.channels.get(channel)!.isArchived).toBe(false);

    await tickAt('2026-11-30T10:00:00Z');
    await tickAt('2026-11-30T10:10:00Z');
    await tickAt('2026-12-05T10:00:00Z');
    expect(archiveCalls()).toEqual([{ channel }]);
    expect(t.slack.channels.get(channel)!.isArchived).toBe(true);
    expect(t.slack.messagesIn(channel).at(-1)!.text).toBe(
      '🗄️ *INC-1* was resolved 7 days ago, so Tandem archives this channel now. Its timeline stays in Tandem.',
    );
    // The last message went out before the archive.
    const calls = t.slack.calls.map((call) => call.method);
    expect(calls.lastIndexOf('chat.postMessage')).toBeLessThan(calls.indexOf('conversations.archive'));
    expect((await incident()).archivedAt).toEqual(new Date('2026-11-30T10:00:00Z'));
    expect((await events('archived')).map((event) => event.text)).toEqual([`Archived <#${channel}>`]);
  });

  it('never archives with archive_after_days 0', async () => {
    await start({ catalog: `${catalog}incidents:\n  archive_after_days: 0\n` });
    await tickAt('2027-06-01T10:00:00Z');
    expect(archiveCalls()).toHaveLength(0);
  });

  it('follows the catalog’s archive_after_days', async () => {
    await start({ catalog: `${catalog}incidents:\n  archive_after_days: 1\n` });
    await tickAt('2026-11-24T09:59:00Z');
    expect(archiveCalls()).toHaveLength(0);
    await tickAt('2026-11-24T10:00:00Z');
    expect(archiveCalls()).toHaveLength(1);
    expect(t.slack.messagesIn(channel).at(-1)!.text).toContain('was resolved 1 day ago');
  });

  it('leaves an open incident and one no longer resolved alone', async () => {
    await start({ resolve: false });
    await tickAt('2026-12-30T10:00:00Z');
    expect(archiveCalls()).toHaveLength(0);

    t.clock.set('2026-12-30T10:00:00Z');
    await t.simulator.command(alice, channel, '/incident', 'resolve');
    await t.idle();
    // Nothing in Tandem reopens a resolved incident today; should anything ever, its channel stays.
    await t.database.handle.db.update(incidents).set({ status: 'monitoring' }).where(eq(incidents.id, incidentId));
    await tickAt('2027-01-10T10:00:00Z');
    expect(archiveCalls()).toHaveLength(0);
    expect((await incident()).archivedAt).toBeNull();
  });

  it('counts a channel archived already as archived', async () => {
    await start();
    t.slack.channels.get(channel)!.isArchived = true;
    await tickAt('2026-11-30T10:00:00Z');
    expect(archiveCalls()).toHaveLength(1);
    expect((await incident()).archivedAt).not.toBeNull();
    expect((await events('archived')).map((event) => event.text)).toEqual([`Archived <#${channel}> (it was archived already)`]);
    // The last message could not be posted to an archived channel; that is on the timeline too.
    expect((await events('slack_error')).map((event) => event.text)).toEqual([`Could not post to <#${channel}>: is_archived`]);
  });

  it('records not_in_channel on the timeline once and does not try again', async () => {
    await start();
    t.slack.channels.get(channel)!.members.delete(t.slack.botUserId);
    await tickAt('2026-11-30T10:00:00Z');
    await tickAt('2026-11-30T10:10:00Z');
    await tickAt('2026-12-07T10:00:00Z');
    expect(archiveCalls()).toHaveLength(1);
    expect((await incident()).archivedAt).toBeNull();
    expect((await events('slack_error')).map((event) => event.text)).toEqual([`Could not archive <#${channel}>: not_in_channel`]);
  });

  it('waits out a 429 and archives once', async () => {
    await start();
    t.slack.failNext('conversations.archive', { rateLimitedFor: 30 });
    await tickAt('2026-11-30T10:00:00Z');
    expect(t.slack.channels.get(channel)!.isArchived).toBe(false);
    t.clock.advance(30_000);
    await t.idle();
    expect(t.slack.channels.get(channel)!.isArchived).toBe(true);
    expect(archiveCalls()).toHaveLength(2);
    expect(await events('archived')).toHaveLength(1);
  });

  it('archives a private incident’s channel, saying so only inside it', async () => {
    await start({ declare: 'Leaked credentials service=payments --private' });
    const before = t.slack.callsOf('chat.postMessage').length;
    await tickAt('2026-11-30T10:00:00Z');
    expect(t.slack.channels.get(channel)!.isArchived).toBe(true);
    expect(t.slack.callsOf('chat.postMessage').slice(before).map((call) => call.channel)).toEqual([channel]);
  });

  it('records channel_not_found for a private channel Tandem was removed from', async () => {
    await start({ declare: 'Leaked credentials service=payments --private' });
    t.slack.channels.get(channel)!.members.delete(t.slack.botUserId);
    await tickAt('2026-11-30T10:00:00Z');
    await tickAt('2026-12-01T10:00:00Z');
    expect(archiveCalls()).toHaveLength(1);
    expect((await events('slack_error')).map((event) => event.text)).toEqual([
      `Could not post to <#${channel}>: channel_not_found`,
      `Could not archive <#${channel}>: channel_not_found`,
    ]);
  });

  it.skipIf(!inject('postgres'))('archives once with two instances ticking together', async () => {
    const first = await start();
    const second = await startHarness({ alongside: first });
    harnesses.push(second);
    first.clock.set('2026-11-30T10:00:00Z');
    await Promise.all([first, second, first, second].map((instance) => instance.tandem.scheduler.run('incident-archive')));
    await Promise.all([first.idle(), second.idle()]);
    expect(archiveCalls()).toHaveLength(1);
    expect(t.slack.messagesIn(channel).filter((message) => message.text.startsWith('🗄️'))).toHaveLength(1);
  });
});
