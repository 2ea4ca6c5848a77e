import { asc } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { incidents } from '../../src/db/schema';
import type { FakeSlack } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    oncall: [U0ONCALL]
    channels: { incidents: C0INCIDENTS }
`;

const alice = 'U0ALICE';
const general = 'C0GENERAL';

/** Every call of these methods meets Slack at its worst for a while: rate limits, then 5xx, then internal_error. */
function storm(slack: FakeSlack, methods: string[], each: number) {
  for (const method of methods) {
    slack.failNext(method, { rateLimitedFor: 5 }, each);
    slack.failNext(method, { httpStatus: 503 }, each);
    slack.failNext(method, { error: 'internal_error' }, each);
  }
}

describe('swarm set-up under faults', () => {
  let t: Harness;
  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addChannel({ id: general, name: 'general', members: [alice] });
      },
    });
  });
  afterEach(() => t.stop());

  const rows = () => t.database.handle.db.select().from(incidents).orderBy(asc(incidents.number));
  const channelsOf = (number: number) => [...t.slack.channels.values()].filter((channel) => channel.name.startsWith(`inc-20261123-${number}-`));
  const announcementsOf = (number: number) => t.slack.messagesIn('C0INCIDENTS').filter((message) => message.text.includes(`INC-${number} `));
  const dmsTo = (user: string) => t.slack.messagesIn(t.slack.imWith(user).id);
  /** Lets the clock run in steps, as the workers would see it over `totalMs`. */
  const runFor = async (totalMs: number, stepMs = 15_000) => {
    for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
      t.clock.advance(stepMs);
      await t.idle();
    }
  };

  it('finishes every incident declared during a Slack storm: one channel each, a pinned summary and the announcement', async () => {
    storm(t.slack, ['conversations.create', 'conversations.invite', 'chat.postMessage', 'pins.add'], 4);
    const token = await t.token('incidents:write');
    for (let index = 1; index <= 4; index += 1) {
      expect((await t.api('POST', '/incidents', { token, body: { title: `Alert ${index}`, service: 'payments' } })).status).toBe(201);
      await t.simulator.command(alice, general, '/incident', `Typed ${index} service=payments`);
    }
    await t.idle();
    await runFor(10 * 60_000);

    const all = await rows();
    expect(all).toHaveLength(8);
    for (const incident of all) {
      const channels = channelsOf(incident.number);
      expect(channels, `INC-${incident.number}`).toHaveLength(1);
      expect(incident.channelId).toBe(channels[0]!.id);
      expect(t.slack.messagesIn(channels[0]!.id).filter((message) => message.pinned), `INC-${incident.number}`).toHaveLength(1);
      expect(channels[0]!.members.has('U0ONCALL')).toBe(true);
      expect(announcementsOf(incident.number), `INC-${incident.number}`).toHaveLength(1);
      expect(incident.swarmSetup).toBe('done');
    }
    // Nothing failed for good, so nobody was sent a complaint.
    expect(dmsTo(alice)).toHaveLength(0);
  });

  it('adopts the channel Slack made when its answer was lost, after a restart, instead of making a second', async () => {
    t.slack.failNext('conversations.create', { lostAnswer: 500 });
    await t.simulator.command(alice, general, '/incident', 'Lost answer service=payments');
    await t.idle();
    expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain('Tandem keeps trying');
    await t.restart();
    await runFor(30_000);

    const channels = channelsOf(1);
    expect(channels.map((channel) => channel.name)).toEqual(['inc-20261123-1-lost-answer']);
    const [row] = await rows();
    expect(row).toMatchObject({ channelId: channels[0]!.id, swarmSetup: 'done' });
    expect(channels[0]!.members.has(alice)).toBe(true);
    expect(t.slack.messagesIn(channels[0]!.id).filter((message) => message.pinned)).toHaveLength(1);
    expect(announcementsOf(1)).toHaveLength(1);
  });

  it('tells the declarer once about a step that retrying cannot fix, and Try again finishes it', async () => {
    t.slack.failNext('conversations.create', { httpStatus: 503 });
    t.slack.failNext('pins.add', { error: 'missing_scope', extra: { needed: 'pins:write', provided: 'chat:write' } });
    await t.simulator.command(alice, general, '/incident', 'Pins refused service=payments');
    await t.idle();
    await runFor(60_000);
    await t.restart();
    await runFor(60_000);

    const [row] = await rows();
    expect(row!.swarmSetup).toBe('done');
    const complaints = dmsTo(alice);
    expect(complaints).toHaveLength(1);
    expect(complaints[0]!.text).toContain('I could not pin the summary');
    expect(complaints[0]!.text).toContain('missing_scope');
    expect(announcementsOf(1)).toHaveLength(1);

    await t.simulator.click(alice, { message: complaints[0]! }, 'incident.retry_setup');
    await t.idle();
    const [summary] = t.slack.messagesIn(row!.channelId!);
    expect(summary!.pinned).toBe(true);
    expect(channelsOf(1)).toHaveLength(1);
    expect(announcementsOf(1)).toHaveLength(1);
  });

  it('does not send a second notice of a failure the declarer already saw in the reply', async () => {
    t.slack.failNext('conversations.create', { error: 'missing_scope', extra: { needed: 'channels:manage', provided: 'chat:write' } });
    await t.simulator.command(alice, general, '/incident', 'No scope service=payments');
    await t.idle();
    await runFor(60_000);
    expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain('missing_scope');
    expect(dmsTo(alice)).toHaveLength(0);
    expect(channelsOf(1)).toHaveLength(0);
  });

  it.skipIf(!inject('postgres'))('sets up each incident once with two instances resuming together', async () => {
    const second = await startHarness({ alongside: t });
    try {
      t.slack.failNext('conversations.create', { httpStatus: 500 }, 6);
      const token = await t.token('incidents:write');
      for (let index = 1; index <= 6; index += 1) {
        await t.api('POST', '/incidents', { token, body: { title: `Pair ${index}`, service: 'payments' } });
      }
      await t.idle();
      t.clock.advance(60_000);
      await Promise.all([t.tandem.swarms.drain(), second.tandem.swarms.drain()]);
      // Either instance may have queued the announcements; both outboxes send them.
      await Promise.all([t.idle(), second.idle()]);
      await Promise.all([t.idle(), second.idle()]);
      for (let number = 1; number <= 6; number += 1) {
        expect(channelsOf(number), `INC-${number}`).toHaveLength(1);
        expect(announcementsOf(number), `INC-${number}`).toHaveLength(1);
      }
      expect(t.slack.callsOf('pins.add')).toHaveLength(6);
    } finally {
      await second.stop();
    }
  });
});
