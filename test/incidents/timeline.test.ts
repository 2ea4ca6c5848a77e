import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentMessages, incidents, problems, slackDeliveries } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    channels: { incidents: C0INCIDENTS }
incidents:
  message_retention_days: 30
`;

const alice = 'U0ALICE';
const bob = 'U0BOB';
const carol = 'U0CAROL';

describe('the incident channel is the record', () => {
  let t: Harness;
  let channel: string;
  let incidentId: string;
  let token: string;

  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        for (const [id, name] of [
          [alice, 'alice'],
          [bob, 'bob'],
          [carol, 'carol'],
        ] as const)
          slack.addUser({ id, name });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice, bob, carol] });
      },
    });
    await t.simulator.command(alice, 'C0GENERAL', '/incident', `Checkout failing service=payments <@${bob}|bob> <@${carol}|carol>`);
    await t.idle();
    const [row] = await t.database.handle.db.select().from(incidents);
    channel = row!.channelId!;
    incidentId = row!.id;
    token = await t.token('read');
  });
  afterEach(() => t.stop());

  const say = async (user: string, text: string, where = channel) => {
    const { message } = await t.simulator.say(user, where, text);
    await t.idle();
    return message;
  };
  const act = async (action: () => Promise<unknown>) => {
    await action();
    await t.idle();
  };
  const stored = () => t.database.handle.db.select().from(incidentMessages);
  const timeline = async () => (await t.api('GET', `/incidents/${incidentId}`, { token })).body.timeline as Array<Record<string, any>>;
  const messageEntries = async () => (await timeline()).filter((entry) => entry.kind === 'message');
  const command = async (text: string, user = alice, where = channel) => {
    const seen = t.slack.ephemerals.length;
    await t.simulator.command(user, where, '/incident', text);
    await t.idle();
    return t.slack.ephemerals.slice(seen).filter((message) => message.user === user);
  };

  it('stores the channel’s messages, and only incident channels’ messages', async () => {
    const claims = async () => (await t.database.handle.db.select().from(slackDeliveries)).length;
    const claimed = await claims();
    await say(alice, 'Error rate is 40% since 10:02');
    await say(bob, 'Looking at the load balancer');
    await say(alice, 'Lunch anyone?', 'C0GENERAL');
    const rows = await stored();
    expect(rows.map((row) => [row.user, row.text, row.incidentId])).toEqual([
      [alice, 'Error rate is 40% since 10:02', incidentId],
      [bob, 'Looking at the load balancer', incidentId],
    ]);
    // Nothing is read back from Slack's history, and messages need no delivery claim (storing them is idempotent).
    expect(t.slack.callsOf('conversations.history')).toEqual([]);
    expect(await claims()).toBe(claimed);
    // A redelivered message is stored once.
    const repeated = (await stored())[0]!;
    await act(() => t.simulator.event({ type: 'message', channel, channel_type: 'channel', user: alice, text: repeated.text, ts: repeated.ts }, { retryNum: 1 }));
    expect(await stored()).toHaveLength(2);
    // Stored messages are not the timeline until someone pins or marks them.
    expect(await messageEntries()).toEqual([]);
  });

  it('drops NUL characters from message text', async () => {
    const message = await say(alice, 'db\u0000 is down');
    expect((await stored())[0]!.text).toBe('db is down');
    await act(() => t.simulator.edit(alice, message, 'db\u0000 is back'));
    expect((await stored())[0]!.text).toBe('db is back');
  });

  it('puts a pinned message on the timeline once, with author, its own time and permalink, and takes it off when unpinned', async () => {
    const message = await say(bob, 'Rolled back to v41');
    t.clock.advance(10 * 60_000);
    await act(() => t.simulator.pin(carol, message));
    const [entry, ...others] = await messageEntries();
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      kind: 'message',
      by: bob,
      text: 'Rolled back to v41',
      at: new Date(Number(message.ts.split('.')[0]) * 1000).toISOString(),
      data: { ts: message.ts, permalink: `${t.slack.origin}/archives/${channel}/p${message.ts.replace('.', '')}`, deleted: false },
    });
    // The entry sits among Tandem's own events by its time.
    const kinds = (await timeline()).map((e) => e.kind);
    expect(kinds.indexOf('message')).toBeGreaterThan(kinds.indexOf('declared'));

    await act(() => t.simulator.unpin(carol, message));
    expect(await messageEntries()).toEqual([]);
  });

  it('counts the timeline reaction once however many people add it, and keeps the message until the last one and the pin are gone', async () => {
    const message = await say(alice, 'Customer impact: EU only');
    await act(() => t.simulator.react(bob, message, 'pushpin'));
    await act(() => t.simulator.react(carol, message, 'pushpin'));
    await act(() => t.simulator.react(carol, message, 'eyes'));
    expect(await messageEntries()).toHaveLength(1);
    expect(t.slack.callsOf('chat.getPermalink')).toHaveLength(1);

    await act(() => t.simulator.unreact(bob, message, 'pushpin'));
    expect(await messageEntries()).toHaveLength(1);
    await act(() => t.simulator.pin(alice, message));
    await act(() => t.simulator.unreact(carol, message, 'pushpin'));
    expect(await messageEntries()).toHaveLength(1);
    await act(() => t.simulator.unpin(alice, message));
    expect(await messageEntries()).toEqual([]);
  });

  it('ignores a redelivered reaction and the same person’s reaction arriving twice', async () => {
    const message = await say(alice, 'Paging the DBA');
    // Slack retrying the event (same event_id, X-Slack-Retry-Num), then a copy with its own id.
    await act(() => t.simulator.react(bob, message, 'pushpin', { deliveries: 3 }));
    await act(() => t.simulator.event({ type: 'reaction_added', user: bob, reaction: 'pushpin', item_user: alice, item: { type: 'message', channel, ts: message.ts } }));
    expect(await messageEntries()).toHaveLength(1);
    expect(t.slack.callsOf('chat.getPermalink')).toHaveLength(1);
    // One removal takes it off: it was one person's mark.
    await act(() => t.simulator.unreact(bob, message, 'pushpin'));
    expect(await messageEntries()).toEqual([]);
  });

  it('answers a reaction on a message it never saw honestly: the entry has the link, and the person hears why it has no text', async () => {
    // Posted before Tandem heard it (no event delivered).
    const unseen = t.slack.post(channel, { text: 'Earlier: cert expired?', user: alice });
    await act(() => t.simulator.react(bob, unseen, 'pushpin'));
    const [entry] = await messageEntries();
    expect(entry).toMatchObject({ by: alice, text: '(message text not available)', data: { text_available: false, permalink: expect.stringContaining(channel) } });
    expect(t.slack.ephemeralsFor(bob).at(-1)!.text).toContain('Tandem never received that message');
    // A pin carries the message itself, so the text arrives with it.
    await act(() => t.simulator.pin(carol, unseen));
    expect((await messageEntries())[0]).toMatchObject({ text: 'Earlier: cert expired?', data: { text_available: true } });
  });

  it('shows an edited message’s new text, and a deleted one as deleted, without its text', async () => {
    const message = await say(alice, 'Root cause: DNS');
    await act(() => t.simulator.react(bob, message, 'pushpin'));
    await act(() => t.simulator.edit(alice, message, 'Root cause: expired certificate'));
    expect((await messageEntries())[0]).toMatchObject({ text: 'Root cause: expired certificate', data: { edited_at: expect.any(String) } });

    await act(() => t.simulator.deleteMessage(alice, message));
    expect((await messageEntries())[0]).toMatchObject({ text: '(message deleted)', data: { deleted: true } });
    expect(JSON.stringify(await stored())).not.toContain('expired certificate');
  });

  it('ignores marks on Tandem’s own messages, such as the pinned summary', async () => {
    const summary = t.slack.messagesIn(channel).find((message) => message.pinned)!;
    await act(() => t.simulator.react(bob, summary, 'pushpin'));
    expect(await messageEntries()).toEqual([]);
    expect(t.slack.ephemeralsFor(bob).at(-1)!.text).toContain('Tandem’s own messages');
  });

  it('pages /incident timeline within Block Kit’s limits, newest first, with Older and Newer', async () => {
    const messages: FakeMessage[] = [];
    for (let i = 1; i <= 45; i += 1) messages.push((await t.simulator.say(alice, channel, `note ${i} ${'x'.repeat(4000)}`)).message);
    for (const message of messages) await t.simulator.react(bob, message, 'pushpin');
    await t.idle();
    const entries = await timeline();
    expect(entries.length).toBeGreaterThanOrEqual(45);

    const [first] = await command('timeline');
    const pages = Math.ceil(entries.length / 20);
    expect(first!.blocks!.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(first!.blocks)).toContain('note 45');
    expect(JSON.stringify(first!.blocks)).not.toContain('note 25 ');
    expect(JSON.stringify(first!.blocks)).toContain(`Page 1 of ${pages}`);
    for (const block of first!.blocks as Array<{ text?: { text: string } }>) expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);

    await act(() => t.simulator.click(alice, { ephemeral: first! }, 'incident.timeline_older'));
    expect(JSON.stringify(first!.blocks)).toContain(`Page 2 of ${pages}`);
    expect(JSON.stringify(first!.blocks)).toContain('incident.timeline_newer');

    const [last] = await command(`timeline ${pages + 5}`);
    expect(JSON.stringify(last!.blocks)).toContain(`Page ${pages} of ${pages}`);
    expect(JSON.stringify(last!.blocks)).toContain('Declared');
    expect((await command('timeline two'))[0]!.text).toContain('takes a page number');
  });

  it('tells someone joining where the incident stands with /incident catchup', async () => {
    await command(`commander <@${bob}|bob>`);
    await command('update Rolled back, error rate falling');
    await command('sev 2');
    const message = await say(carol, 'EU customers see timeouts');
    await act(() => t.simulator.pin(carol, message));
    await t.database.handle.db
      .insert(problems)
      .values({ incidentId, title: 'Add a certificate expiry alert', createdBy: carol, createdAt: t.clock.now() });

    const [catchup] = await command('catchup', carol);
    const shown = JSON.stringify(catchup!.blocks);
    expect(catchup!.text).toBe('Catch up on INC-1: investigating, SEV2');
    expect(shown).toContain('*Status*\\ninvestigating');
    expect(shown).toContain('*Severity*\\nSEV2');
    expect(shown).toContain(`*Commander*\\n<@${bob}>`);
    expect(shown).toContain('Rolled back, error rate falling');
    expect(shown).toContain('EU customers see timeouts');
    expect(shown).toContain('Severity SEV3 → SEV2');
    expect(shown).toContain('*Linked change*\\nNone linked');
    expect(shown).toContain(`PRB-1 Add a certificate expiry alert (<@${carol}>)`);
    expect(shown).toContain('Only you see this');
    // Only the asker sees it.
    expect(t.slack.messagesIn(channel).some((posted) => posted.text.includes('Catch up'))).toBe(false);
  });

  it('answers timeline and catchup only inside an incident channel', async () => {
    for (const text of ['timeline', 'catchup']) {
      const [answer] = await command(text, alice, 'C0GENERAL');
      expect(answer!.text).toContain('works inside an incident channel');
    }
  });

  it('forgets stored messages of incidents archived longer than the retention, keeping those on the timeline', async () => {
    const kept = await say(alice, 'Pinned finding');
    await say(bob, 'chatter');
    await act(() => t.simulator.pin(alice, kept));
    await command('resolve Certificate renewed');
    await t.database.handle.db.update(incidents).set({ archivedAt: t.clock.now() }).where(eq(incidents.id, incidentId));

    t.clock.advance(29 * 24 * 3600_000);
    await t.tandem.scheduler.run('incident-message-retention');
    expect(await stored()).toHaveLength(2);

    t.clock.advance(2 * 24 * 3600_000);
    await t.tandem.scheduler.run('incident-message-retention');
    expect((await stored()).map((row) => row.text)).toEqual(['Pinned finding']);
    expect((await messageEntries()).map((entry) => entry.text)).toEqual(['Pinned finding']);
  });
});

describe('a private incident’s record', () => {
  let t: Harness;
  let channel: string;

  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addUser({ id: bob, name: 'bob' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice, bob] });
      },
    });
    await t.simulator.command(alice, 'C0GENERAL', '/incident', 'Secret breach service=payments --private');
    await t.idle();
    channel = (await t.database.handle.db.select().from(incidents))[0]!.channelId!;
  });
  afterEach(() => t.stop());

  it('stores private channel messages (message.groups) and shows the timeline only inside the channel', async () => {
    const { message } = await t.simulator.say(alice, channel, 'Attacker IP 203.0.113.9');
    await t.idle();
    await t.simulator.react(alice, message, 'pushpin');
    await t.idle();
    expect((await t.database.handle.db.select().from(incidentMessages)).map((row) => row.text)).toEqual(['Attacker IP 203.0.113.9']);

    await t.simulator.command(alice, channel, '/incident', 'timeline');
    await t.idle();
    expect(JSON.stringify(t.slack.ephemeralsFor(alice).at(-1)!.blocks)).toContain('Attacker IP');

    for (const text of ['timeline', 'catchup']) {
      await t.simulator.command(bob, 'C0GENERAL', '/incident', text);
      await t.idle();
      const answer = JSON.stringify(t.slack.ephemeralsFor(bob).at(-1));
      expect(answer).not.toContain('Attacker IP');
      expect(answer).not.toContain('Secret breach');
    }
  });
});
