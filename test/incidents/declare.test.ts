import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentEvents, incidents } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    oncall: [U0ONCALL]
    channels: { incidents: C0INCIDENTS, customers: [C0ACME] }
    default_severity: 2
  search:
    owners: [U0OWNER2]
`;

const alice = 'U0ALICE';
const general = 'C0GENERAL';

describe('declaring an incident', () => {
  let t: Harness;
  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addUser({ id: 'U0BOB', name: 'bob' });
        slack.addChannel({ id: general, name: 'general', members: [alice, 'U0BOB'] });
      },
    });
  });
  afterEach(() => t.stop());

  const allIncidents = () => t.database.handle.db.select().from(incidents);
  const timeline = (incidentId: string) =>
    t.database.handle.db.select().from(incidentEvents).where(eq(incidentEvents.incidentId, incidentId));

  it('opens a channel, invites responders, pins a summary and announces it', async () => {
    const answer = await t.simulator.command(alice, general, '/incident', 'Checkout returns 500s service=payments <@U0BOB|bob>');
    expect(answer.status).toBe(200);
    await t.idle();

    const channel = t.slack.channelByName('inc-20261123-1-checkout-returns-500s');
    expect(channel?.isPrivate).toBe(false);
    expect([...channel!.members].sort()).toEqual([alice, 'U0BOB', 'U0ONCALL', 'U0OWNER1', t.slack.botUserId].sort());
    const [summary] = t.slack.messagesIn(channel!.id);
    expect(summary!.pinned).toBe(true);
    expect(summary!.text).toBe('INC-1 · Checkout returns 500s (SEV2, Investigating)');
    const buttons = (summary!.blocks!.at(-1) as { elements: Array<{ action_id: string }> }).elements.map((e) => e.action_id);
    expect(buttons).toEqual(['incident.status', 'incident.severity', 'incident.commander', 'incident.update', 'incident.link_cause', 'incident.resolve']);

    const [announcement] = t.slack.messagesIn('C0INCIDENTS');
    expect(announcement!.text).toContain(`SEV2 declared: *INC-1 Checkout returns 500s* <#${channel!.id}> (payments) by <@${alice}>`);
    expect(t.slack.messagesIn('C0ACME').map((m) => m.text)).toEqual([
      '⚠️ We are investigating an issue affecting *payments*. We will post updates here. _(Reference INC-1)_',
    ]);
    expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain(`Declared *INC-1*: join <#${channel!.id}> to swarm.`);

    const [row] = await allIncidents();
    expect(row).toMatchObject({ number: 1, severity: 2, service: 'payments', declaredBy: alice, channelId: channel!.id, summaryTs: summary!.ts });
    expect((await timeline(row!.id)).map((event) => event.kind)).toEqual(['declared', 'channel_created']);
  });

  it('uses SEV3 without a service and honours sev= and --private', async () => {
    await t.simulator.command(alice, general, '/incident', 'Disk filling up');
    await t.simulator.command(alice, general, '/incident', 'Leaked key sev=1 --private');
    await t.idle();
    const rows = await allIncidents();
    expect(rows.map((row) => [row.title, row.severity, row.private])).toEqual(
      expect.arrayContaining([
        ['Disk filling up', 3, false],
        ['Leaked key', 1, true],
      ]),
    );
    const secret = rows.find((row) => row.private)!;
    expect(t.slack.channels.get(secret.channelId!)?.isPrivate).toBe(true);
    expect(t.slack.messagesIn('C0INCIDENTS')).toHaveLength(0);
  });

  it('declares from the modal when /incident has no text', async () => {
    await t.simulator.command(alice, general, '/incident', '');
    const [view] = t.slack.openViews(alice);
    expect(view!.view.callback_id).toBe('incident.declare');

    const empty = await t.simulator.submit(alice, view!.id, { title: '' });
    expect(empty.errors).toEqual({ title: 'Give the incident a title.' });

    const submitted = await t.simulator.submit(alice, view!.id, {
      title: 'Search is slow',
      severity: '2',
      service: 'search',
      description: 'p99 over 4s',
      private: [],
    });
    expect(submitted.errors).toBeUndefined();
    await t.idle();
    const [row] = await allIncidents();
    expect(row).toMatchObject({ title: 'Search is slow', severity: 2, service: 'search', description: 'p99 over 4s' });
    expect([...t.slack.channels.get(row!.channelId!)!.members]).toContain('U0OWNER2');
    const dm = t.slack.imWith(alice);
    expect(t.slack.messagesIn(dm.id).at(-1)!.text).toContain('Declared *INC-1*');
  });

  it('declares an incident with a very long title, shortened, never refusing it', async () => {
    const title = `Checkout returns 500s for every card payment ${'in every region '.repeat(12)}since the 09:00 deploy`;
    await t.simulator.command(alice, general, '/incident', `${title} service=payments`);
    await t.idle();
    const [row] = await allIncidents();
    expect(row!.title).toHaveLength(150);
    expect(row!.title.endsWith('…')).toBe(true);
    expect(row!.description).toBe(title);
    const reply = t.slack.ephemeralsFor(alice).at(-1)!.text;
    expect(reply).toContain('Declared *INC-1*');
    expect(reply).toContain('so it is shortened to 150; the whole text opens the description.');
    expect((await timeline(row!.id)).map((event) => event.kind)).toEqual(['declared', 'note', 'channel_created']);
    const [summary] = t.slack.messagesIn(row!.channelId!);
    expect(JSON.stringify(summary!.blocks)).toContain('since the 09:00 deploy');
  });

  it('lets the declare form take a long title and shortens it', async () => {
    await t.simulator.command(alice, general, '/incident', '');
    const [view] = t.slack.openViews(alice);
    const blocks = view!.view.blocks as Array<{ block_id?: string; element?: { max_length?: number } }>;
    const titleInput = blocks.find((block) => block.block_id === 'title')!;
    expect(titleInput.element?.max_length).toBe(3000);
    const title = 'Search is slow '.repeat(20).trim();
    const submitted = await t.simulator.submit(alice, view!.id, { title, description: 'p99 over 4s', private: [] });
    expect(submitted.errors).toBeUndefined();
    await t.idle();
    const [row] = await allIncidents();
    expect(row!.title).toHaveLength(150);
    expect(row!.description).toBe(`${title}\n\np99 over 4s`);
    expect(t.slack.messagesIn(t.slack.imWith(alice).id).at(-1)!.text).toContain('shortened to 150');
  });

  it('creates one incident and one channel when Slack delivers the same command twice', async () => {
    const trigger = t.slack.issueTrigger(alice);
    const body = new URLSearchParams({
      command: '/incident',
      text: 'Payments timing out',
      user_id: alice,
      channel_id: general,
      team_id: t.slack.teamId,
      trigger_id: trigger,
      response_url: t.slack.responseUrlFor({ channel: general, user: alice }),
      api_app_id: t.slack.appId,
    }).toString();
    const [first, second] = await Promise.all([
      t.simulator.send(body),
      t.simulator.send(body, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    await t.idle();
    expect(await allIncidents()).toHaveLength(1);
    expect(t.slack.callsOf('conversations.create')).toHaveLength(1);
  });

  it('gives a name_taken channel a suffix instead of failing', async () => {
    t.slack.addChannel({ name: 'inc-20261123-1-db-down' });
    t.slack.addChannel({ name: 'inc-20261123-1-db-down-2' });
    await t.simulator.command(alice, general, '/incident', 'DB down');
    await t.idle();
    const [row] = await allIncidents();
    expect(row!.channelName).toBe('inc-20261123-1-db-down-3');
  });

  it('waits out a 429 from Slack and carries on', async () => {
    t.slack.failNext('conversations.create', { rateLimitedFor: 1 });
    await t.simulator.command(alice, general, '/incident', 'Queue backlog');
    await t.idle();
    // The set-up waits as long as Slack asked, in the database, then resumes.
    t.clock.advance(1_000);
    await t.idle();
    const [row] = await allIncidents();
    expect(row!.channelName).toBe('inc-20261123-1-queue-backlog');
    expect(t.slack.callsOf('conversations.create')).toHaveLength(2);
  });

  it('records the incident and explains a hard Slack failure, then finishes on "Try again"', async () => {
    t.slack.failNext('conversations.create', { error: 'missing_scope', extra: { needed: 'channels:manage', provided: 'chat:write' } });
    await t.simulator.command(alice, general, '/incident', 'Login broken service=payments');
    await t.idle();

    const [row] = await allIncidents();
    expect(row!.channelId).toBeNull();
    const reply = t.slack.ephemeralsFor(alice).at(-1)!;
    expect(reply.text).toContain('Recorded *INC-1*, but its channel could not be created.');
    expect(reply.text).toContain('Slack said `missing_scope`. Tandem lacks a Slack permission it needs');
    const failure = (await timeline(row!.id)).find((event) => event.kind === 'slack_error');
    expect(failure?.data).toMatchObject({ step: 'create the incident channel', error: 'missing_scope' });
    // Stakeholders still hear about it, without a channel link.
    expect(t.slack.messagesIn('C0INCIDENTS')).toHaveLength(1);

    await t.simulator.click(alice, { ephemeral: reply }, 'incident.retry_setup');
    await t.idle();
    const [fixed] = await allIncidents();
    expect(fixed!.channelName).toBe('inc-20261123-1-login-broken');
    expect(reply.text).toContain('Declared *INC-1*');
    expect(t.slack.messagesIn('C0INCIDENTS')).toHaveLength(1);
  });

  it('reports people it could not invite and keeps going', async () => {
    await t.simulator.command(alice, general, '/incident', 'Cache stampede <@U0GHOST|ghost>');
    await t.idle();
    const reply = t.slack.ephemeralsFor(alice).at(-1)!;
    expect(reply.text).toContain('I could not invite <@U0GHOST>: Slack said `user_not_found`.');
    const [row] = await allIncidents();
    expect(row!.summaryTs).not.toBeNull();
  });

  it('records an announcement Slack refused on the timeline', async () => {
    // A private announcement channel Tandem was never invited to.
    const announcements = t.slack.channels.get('C0INCIDENTS')!;
    announcements.isPrivate = true;
    announcements.members.delete(t.slack.botUserId);
    await t.simulator.command(alice, general, '/incident', 'Webhook lag service=payments');
    await t.idle();
    const [row] = await allIncidents();
    const failure = (await timeline(row!.id)).find((event) => event.kind === 'slack_error');
    expect(failure?.text).toBe('Could not post to <#C0INCIDENTS>: channel_not_found');
    expect(t.slack.messagesIn('C0ACME')).toHaveLength(1);
  });

  it('refuses an unknown service and records nothing', async () => {
    await t.simulator.command(alice, general, '/incident', 'Broken service=billing');
    await t.idle();
    expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toBe(
      'There is no service "billing" in the catalog. Known services: payments, search.',
    );
    expect(await allIncidents()).toHaveLength(0);
    expect(t.slack.callsOf('conversations.create')).toHaveLength(0);
  });

  it('answers help and bad input in the ack, ephemerally', async () => {
    const help = await t.simulator.command(alice, general, '/incident', 'help');
    expect(help.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('/incident sev <1-4>') });
    const bad = await t.simulator.command(alice, general, '/incident', 'sev=0 Broken');
    expect(bad.body).toMatchObject({ text: expect.stringContaining('is not a severity') });
    expect(await allIncidents()).toHaveLength(0);
  });
});
