import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentEvents, incidents, problems } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    channels: { incidents: C0INCIDENTS, customers: [C0ACME] }
`;

const alice = 'U0ALICE';
const bob = 'U0BOB';

describe('working an incident', () => {
  let t: Harness;
  let channel: string;
  let incidentId: string;

  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addUser({ id: bob, name: 'bob' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice, bob] });
      },
    });
    await t.simulator.command(alice, 'C0GENERAL', '/incident', 'Checkout failing service=payments');
    await t.idle();
    const [row] = await t.database.handle.db.select().from(incidents);
    channel = row!.channelId!;
    incidentId = row!.id;
    t.clock.advance(25 * 60_000);
  });
  afterEach(() => t.stop());

  const incident = async () => (await t.database.handle.db.select().from(incidents).where(eq(incidents.id, incidentId)))[0]!;
  const events = () =>
    t.database.handle.db
      .select()
      .from(incidentEvents)
      .where(eq(incidentEvents.incidentId, incidentId))
      .orderBy(asc(incidentEvents.id));
  const summary = (): FakeMessage => t.slack.messagesIn(channel).find((message) => message.pinned)!;
  const lastPost = (where: string) => t.slack.messagesIn(where).at(-1)!;
  const click = async (user: string, message: FakeMessage, actionId: string) => {
    await t.simulator.click(user, { message }, actionId);
    await t.idle();
  };
  const command = async (text: string, user = alice, where = channel) => {
    await t.simulator.command(user, where, '/incident', text);
    await t.idle();
  };

  it('changes severity, status, commander and posts updates from subcommands', async () => {
    await command('sev 1');
    expect((await incident()).severity).toBe(1);
    expect(lastPost(channel).text).toBe(`🔺 *INC-1*: <@${alice}> changed severity SEV3 → *SEV1*`);
    expect(lastPost('C0INCIDENTS').text).toContain('severity SEV3 → *SEV1*');
    expect(summary().text).toContain('(SEV1, Investigating)');

    await command('status identified');
    expect((await incident()).status).toBe('identified');
    expect(lastPost('C0ACME').text).toContain('We have identified the cause of the issue affecting *payments*');

    await command(`commander <@${bob}|bob>`);
    expect((await incident()).commander).toBe(bob);
    expect(summary().blocks!.some((block) => JSON.stringify(block).includes(`<@${bob}>`))).toBe(true);

    await command('update Rolled back to v41 & watching <!channel>');
    expect(lastPost(channel).text).toBe(`📣 *INC-1* update from <@${alice}>\nRolled back to v41 &amp; watching &lt;!channel&gt;`);
    expect(lastPost('C0ACME').text).toContain('Rolled back to v41');

    expect((await events()).map((event) => [event.kind, event.actor, event.text])).toEqual([
      ['declared', alice, 'Declared SEV3: Checkout failing'],
      ['channel_created', 'tandem', expect.stringContaining('Opened #inc-20261123-1')],
      ['severity', alice, 'Severity SEV3 → SEV1'],
      ['status', alice, 'Status investigating → identified'],
      ['commander', alice, `Commander unassigned → ${bob}`],
      ['update', alice, 'Rolled back to v41 & watching <!channel>'],
    ]);
  });

  it('resolves with time to restore, tells everyone and offers a follow-up', async () => {
    await command('resolve Rolled back the bad deploy');
    const resolved = await incident();
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolvedAt!.getTime() - resolved.declaredAt.getTime()).toBe(25 * 60_000);
    // The resolution, then the postmortem draft as a file.
    const [resolvedNote, draft] = t.slack.messagesIn(channel).slice(-2);
    expect(resolvedNote!.text).toBe(`✅ <@${alice}> resolved INC-1 after 25m`);
    expect(draft!.files).toHaveLength(1);
    expect(lastPost('C0INCIDENTS').text).toContain('resolved after 25m: Rolled back the bad deploy');
    expect(lastPost('C0ACME').text).toBe('✅ The issue affecting *payments* is resolved. Thank you for your patience. _(Reference INC-1)_');
    const buttons = JSON.stringify(summary().blocks);
    expect(buttons).toContain('incident.follow_up');
    expect(buttons).not.toContain('incident.resolve');

    await click(bob, resolvedNote!, 'incident.follow_up');
    const [view] = t.slack.openViews(bob);
    const submitted = await t.simulator.submit(bob, view!.id, { title: 'Add a canary for checkout deploys', description: 'Block on error rate' });
    expect(submitted.errors).toBeUndefined();
    await t.idle();
    const [problem] = await t.database.handle.db.select().from(problems);
    expect(problem).toMatchObject({ number: 1, incidentId, title: 'Add a canary for checkout deploys', createdBy: bob });
    expect(lastPost(channel).text).toBe(`📝 *INC-1*: <@${bob}> opened follow-up *PRB-1*: Add a canary for checkout deploys`);
  });

  it('refuses changes to a resolved incident, politely', async () => {
    await command('resolve');
    await command('sev 2');
    expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain('INC-1 is already resolved');
    expect((await incident()).severity).toBe(3);

    // A stale button on the old summary message.
    const stale = t.slack.messagesIn(channel)[0]!;
    stale.blocks = [{ type: 'actions', block_id: 'old', elements: [{ type: 'button', action_id: 'incident.severity', text: { type: 'plain_text', text: 'Change severity' }, value: incidentId }] }];
    await click(bob, stale, 'incident.severity');
    await t.idle();
    expect(t.slack.openViews(bob)).toHaveLength(0);
    expect(t.slack.ephemeralsFor(bob).at(-1)!.text).toBe('INC-1 is already resolved, so there is nothing to change.');
  });

  it('says when a subcommand is typed outside an incident channel', async () => {
    await command('status identified', alice, 'C0GENERAL');
    const reply = t.slack.ephemeralsFor(alice).at(-1)!.text;
    expect(reply).toContain('`/incident status` works inside an incident channel, and this is not one.');
    expect(reply).toContain(`INC-1 <#${channel}>`);
    expect((await incident()).status).toBe('investigating');
  });

  it('works from the summary buttons and their modals', async () => {
    await click(bob, summary(), 'incident.status');
    let [view] = t.slack.openViews(bob);
    await t.simulator.submit(bob, view!.id, { status: 'monitoring', note: 'Error rate back to baseline' });
    await t.idle();
    expect((await incident()).status).toBe('monitoring');
    expect(lastPost(channel).text).toBe(`🔁 *INC-1*: <@${bob}> changed status to *Monitoring*: Error rate back to baseline`);

    await click(bob, summary(), 'incident.severity');
    [view] = t.slack.openViews(bob);
    await t.simulator.submit(bob, view!.id, { severity: '2' });
    await click(bob, summary(), 'incident.commander');
    [view] = t.slack.openViews(bob);
    await t.simulator.submit(bob, view!.id, { commander: alice });
    await click(bob, summary(), 'incident.update');
    [view] = t.slack.openViews(bob);
    await t.simulator.submit(bob, view!.id, { text: 'Next update in 30 minutes' });
    await t.idle();
    expect(await incident()).toMatchObject({ severity: 2, commander: alice });
    expect(lastPost('C0INCIDENTS').text).toContain('Next update in 30 minutes');

    await click(bob, summary(), 'incident.resolve');
    [view] = t.slack.openViews(bob);
    const noSummary = await t.simulator.submit(bob, view!.id, { summary: '' });
    expect(noSummary.errors).toEqual({ summary: 'Say what restored service.' });
    await t.simulator.submit(bob, view!.id, { summary: 'Scaled the pool' });
    await t.idle();
    expect(await incident()).toMatchObject({ status: 'resolved', resolution: 'Scaled the pool' });
  });

  it('shows a refusal inside the modal, and a double-clicked resolve changes nothing twice', async () => {
    await click(bob, summary(), 'incident.resolve');
    await click(alice, summary(), 'incident.resolve');
    const [first] = t.slack.openViews(bob);
    const [second] = t.slack.openViews(alice);
    expect((await t.simulator.submit(bob, first!.id, { summary: 'Fixed' })).errors).toBeUndefined();
    const late = await t.simulator.submit(alice, second!.id, { summary: 'Also fixed' });
    expect(late.errors).toEqual({ summary: expect.stringContaining('INC-1 is already resolved') });
    await t.idle();
    expect((await events()).filter((event) => event.kind === 'resolved')).toHaveLength(1);
  });

  it('counts a retried update once', async () => {
    const trigger = t.slack.issueTrigger(alice);
    const body = new URLSearchParams({
      command: '/incident',
      text: 'update Payments recovering',
      user_id: alice,
      channel_id: channel,
      trigger_id: trigger,
      response_url: t.slack.responseUrlFor({ channel, user: alice }),
    }).toString();
    await t.simulator.send(body);
    await t.simulator.send(body, { 'x-slack-retry-num': '1' });
    await t.idle();
    expect((await events()).filter((event) => event.kind === 'update')).toHaveLength(1);
  });

  it('tells the person when the database is down and changes nothing', async () => {
    await t.database.handle.close();
    const answer = await t.simulator.command(alice, channel, '/incident', 'sev 1');
    expect(answer.body).toMatchObject({ text: expect.stringContaining('Tandem cannot reach its database right now') });
  });
});
