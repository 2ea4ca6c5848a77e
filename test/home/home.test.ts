import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changes, changeVotes, incidents } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWN]
    approvers: { groups: [leads] }
    channels: { approvals: C0APPROVALS }
  search:
    owners: [U0SAM]
groups:
  leads: [U0ANN, U0BEN]
`;

describe('App Home', () => {
  let t: Harness;
  beforeEach(async () => {
    t = await startHarness({ catalog, workspace: (slack) => slack.addUser({ id: 'U0DEV', name: 'dev' }) });
  });
  afterEach(() => t.stop());

  const openHome = async (user: string) => {
    await t.simulator.event({ type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home' });
    await t.idle();
    return JSON.stringify(t.slack.homes.get(user)?.blocks ?? []);
  };
  /** The "Your approvals" part: the blocks before the first divider. */
  const approvalsOn = async (user: string) => {
    await openHome(user);
    const blocks = t.slack.homes.get(user)!.blocks as Array<{ type: string }>;
    return JSON.stringify(blocks.slice(0, blocks.findIndex((block) => block.type === 'divider')));
  };
  const requestChange = async (title: string) => {
    await t.simulator.command('U0DEV', 'C0GENERAL', '/change', `payments ${title}`);
    await t.idle();
  };

  it('shows the viewer’s approvals with buttons that work from the Home, and refreshes', async () => {
    await requestChange('Rotate keys');
    const home = await openHome('U0ANN');
    expect(home).toContain('*Your approvals* (1)');
    expect(home).toContain('*CHG-1* Rotate keys');
    expect(home).toContain('*⏳ Requested* (1)');
    await openHome('U0BEN');

    await t.simulator.click('U0ANN', { homeOf: 'U0ANN' }, 'change.approve');
    await t.idle();
    const [change] = await t.database.handle.db.select().from(changes);
    expect(change).toMatchObject({ status: 'approved', decidedBy: ['U0ANN'] });
    expect(t.slack.messagesIn(t.slack.imWith('U0ANN').id).at(-1)!.text).toBe('You approved CHG-1: it is now approved.');
    // Both approvers' Homes were refreshed without reopening them.
    for (const user of ['U0ANN', 'U0BEN']) {
      const refreshed = JSON.stringify(t.slack.homes.get(user)!.blocks);
      expect(refreshed).toContain('Nothing waits for your approval.');
      expect(refreshed).toContain('*✅ Approved* (1)');
    }
  });

  it('never offers the requester or a bystander a vote, and shows everyone open incidents', async () => {
    await requestChange('Drop old webhook');
    expect(await openHome('U0DEV')).toContain('Nothing waits for your approval.');
    expect(await openHome('U0SAM')).toContain('Nothing waits for your approval.');
    await t.simulator.command('U0DEV', 'C0GENERAL', '/incident', 'Search timeouts service=search');
    await t.idle();
    const refreshed = JSON.stringify(t.slack.homes.get('U0SAM')!.blocks);
    expect(refreshed).toContain('*INC-1* Search timeouts · SEV3 · investigating');
    expect(refreshed).toContain('*search*\\n*Deployment frequency*');
  });

  it('stays within Slack’s 100 blocks and text limits whatever the amount of data', async () => {
    const { db } = t.database.handle;
    const now = t.clock.now();
    const base = { service: 'payments', type: 'normal' as const, risk: 'medium' as const, environment: 'production', requestedBy: 'U0DEV', requestedAt: now, sprint: '2026-11-23', updatedAt: now };
    await db.insert(changes).values([
      ...Array.from({ length: 300 }, (_, index) => ({ ...base, title: `Pending change number ${index} with a fairly long title to fill the page` })),
      ...Array.from({ length: 250 }, (_, index) => ({ ...base, title: `Deployed ${index}`, status: 'deployed' as const, deployedAt: now })),
    ]);
    await db.insert(incidents).values(
      Array.from({ length: 40 }, (_, index) => ({ title: `Incident ${index} ${'x'.repeat(120)}`, severity: 2, declaredBy: 'U0DEV', declaredAt: now, updatedAt: now })),
    );
    const home = t.slack.homes.get('U0ANN');
    expect(home).toBeUndefined();
    await openHome('U0ANN');
    const blocks = t.slack.homes.get('U0ANN')!.blocks as unknown[];
    expect(blocks.length).toBeLessThanOrEqual(100);
    const text = JSON.stringify(blocks);
    expect(text).toContain('*Your approvals* (300)');
    expect(text).toContain('…and 292 more in the approvals channels.');
    expect(text).toContain('*⏳ Requested* (300)');
    expect(text).toContain('*🚀 Deployed* (250)');
    expect(text).toContain('*Open incidents* (40)');
    expect(text).toContain('…and 30 more');
  });

  it('counts and lists each viewer’s own approvals, however many other changes wait', async () => {
    const { db } = t.database.handle;
    const now = t.clock.now();
    const base = { type: 'normal' as const, risk: 'medium' as const, environment: 'production', sprint: '2026-11-23', updatedAt: now };
    const at = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
    // 300 older changes of a service U0ANN does not approve, and some of hers she may not or need not vote on.
    await db.insert(changes).values(
      Array.from({ length: 300 }, (_, index) => ({ ...base, service: 'search', title: `Search change ${index}`, requestedBy: 'U0SAM', requestedAt: at(1000 + index) })),
    );
    const [own, voted, waiting, later] = await db
      .insert(changes)
      .values([
        { ...base, service: 'payments', title: 'Her own change', requestedBy: 'U0ANN', requestedAt: at(30) },
        { ...base, service: 'payments', title: 'Already voted', requestedBy: 'U0DEV', requestedAt: at(20) },
        { ...base, service: 'payments', title: 'Waits for her', requestedBy: 'U0DEV', requestedAt: at(10) },
        { ...base, service: 'payments', title: 'Decided already', requestedBy: 'U0DEV', requestedAt: at(5), status: 'approved' as const },
      ])
      .returning();
    await db.insert(changeVotes).values({ changeId: voted!.id, voter: 'U0ANN', choice: 'approve', at: now });

    const ann = await approvalsOn('U0ANN');
    expect(ann).toContain('*Your approvals* (1)');
    expect(ann).toContain(`*CHG-${waiting!.number}* Waits for her`);
    for (const hidden of [own, voted, later]) expect(ann).not.toContain(hidden!.title);
    expect(ann).not.toContain('Search change');
    // Ben has not voted: both others’ payments changes wait for him.
    const ben = await approvalsOn('U0BEN');
    expect(ben).toContain('*Your approvals* (3)');
    expect(ben).toContain('Her own change');
  });

  it('shows a private incident only to the people Tandem knows are in it, and counts it for everyone else', async () => {
    for (const [id, name] of [['U0CMD', 'commander'], ['U0NAMED', 'named'], ['U0SCRIBE', 'scribe'], ['U0TALK', 'talker']]) t.slack.addUser({ id: id!, name: name! });
    await t.simulator.command('U0DEV', 'C0GENERAL', '/incident', 'SECRET-OUTAGE-TITLE service=search --private <@U0NAMED>');
    await t.idle();
    await t.simulator.command('U0DEV', 'C0GENERAL', '/incident', 'Search timeouts service=search');
    await t.idle();
    const [secret] = await t.database.handle.db.select().from(incidents).where(eq(incidents.private, true));
    expect(secret!.channelId).toBeTruthy();
    await t.simulator.command('U0DEV', secret!.channelId!, '/incident', 'commander <@U0CMD>');
    await t.simulator.command('U0DEV', secret!.channelId!, '/incident', 'role scribe <@U0SCRIBE>');
    await t.simulator.say('U0TALK', secret!.channelId!, 'I can see the same errors');
    await t.idle();

    // Declarer, commander, named at declaration, a role holder, someone who posted there.
    for (const insider of ['U0DEV', 'U0CMD', 'U0NAMED', 'U0SCRIBE', 'U0TALK']) {
      const home = await openHome(insider);
      expect(home).toContain('*INC-1* 🔒 SECRET-OUTAGE-TITLE');
      expect(home).toContain(secret!.channelId!);
    }
    for (const outsider of ['U0ANN', 'U0SAM']) {
      const home = await openHome(outsider);
      expect(home).not.toContain('SECRET-OUTAGE-TITLE');
      expect(home).not.toContain(secret!.channelId!);
      expect(home).not.toContain(secret!.channelName!);
      expect(home).not.toContain('INC-1');
      expect(home).toContain('*Open incidents* (2)');
      expect(home).toContain('*INC-2* Search timeouts');
      expect(home).toContain('🔒 1 private incident, shown only to the people in its channel');
    }
  });
});
