import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changes, incidents } from '../../src/db/schema';
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
    expect(text).toContain('*Your approvals* (100)');
    expect(text).toContain('…and 92 more in the approvals channels.');
    expect(text).toContain('*⏳ Requested* (300)');
    expect(text).toContain('*🚀 Deployed* (250)');
  });
});
