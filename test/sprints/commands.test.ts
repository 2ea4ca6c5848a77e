import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sprintDigests, sprintFeatureEvents, sprintFeatures, sprints } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER]
    oncall: [U0ONCALL]
    approvers: { groups: [leads] }
    channels: { incidents: C0PAYINC, customers: [C0ACME, C0SHARED] }
  search:
    owners: [U0SEARCH]
    channels: { incidents: C0SEARCHINC, customers: [C0SHARED] }
groups:
  leads: [U0LEAD]
`;

const owner = 'U0OWNER';
const stranger = 'U0STRANGER';

describe('/sprint in Slack', () => {
  let t: Harness;

  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: stranger, name: 'stranger' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general' });
      },
    });
  });
  afterEach(() => t.stop());

  const sprint = async (text: string, user = owner, channel = 'C0PAYINC') => {
    await t.simulator.command(user, channel, '/sprint', text);
    await t.idle();
    return t.slack.ephemeralsFor(user).at(-1)?.text ?? '';
  };
  const digests = (channel: string) => t.slack.messagesIn(channel);
  const blocksText = (message: { blocks?: unknown[] }) => JSON.stringify(message.blocks);

  it('starts a sprint, adds features, changes status, and keeps the customer digest current in place', async () => {
    expect(await sprint('subscribe <#C0ACME|acme>')).toContain('<#C0ACME> gets the sprint digest of *payments*: `0 9 * * 1` in UTC');
    expect(await sprint('start Sprint 42 2026-11-23 2026-12-04')).toBe(
      '🚀 Started *Sprint 42* for payments (23 Nov – 4 Dec 2026). The digest is on its way to <#C0ACME>.',
    );
    expect(digests('C0ACME')).toHaveLength(1);
    expect(blocksText(digests('C0ACME')[0]!)).toContain('No customer-facing features are planned for this sprint yet.');

    expect(await sprint('add Export invoices as PDF')).toBe('➕ Added `F-1` Export invoices as PDF to *Sprint 42*.');
    expect(await sprint('add internal Upgrade Postgres to 17')).toBe(
      '➕ Added `F-2` Upgrade Postgres to 17 to *Sprint 42* as internal work, which customers never see.',
    );
    expect(await sprint('status f-1 in-dev')).toBe('🔁 `F-1` Export invoices as PDF: planned → *in-dev*. Digests in customer channels are updated in place.');
    expect(await sprint('status F-2 done')).toContain('planned → *done*');

    const [digest] = digests('C0ACME');
    expect(digests('C0ACME')).toHaveLength(1);
    expect(digest!.edited).toBe(true);
    expect(digest!.text).toBe('Sprint 42 (payments): 0 of 1 feature done');
    expect(blocksText(digest!)).toContain('Export invoices as PDF');
    expect(blocksText(digest!)).toContain('🛠️ In development');
    expect(blocksText(digest!)).not.toContain('Postgres');

    const rows = await t.database.handle.db.select().from(sprintFeatureEvents);
    expect(rows.map((row) => [row.fromStatus, row.toStatus, row.actor])).toEqual([
      [null, 'planned', owner],
      [null, 'planned', owner],
      ['planned', 'in-dev', owner],
      ['planned', 'done', owner],
    ]);
  });

  it('records where a digest was posted once; its in-place updates coming back change nothing', async () => {
    await sprint('subscribe <#C0ACME|acme>');
    await sprint('start Sprint 42 2026-11-23 2026-12-04');
    const postedAt = t.clock.now();
    t.clock.advance(60_000);
    await sprint('add Export invoices as PDF');
    await sprint('status F-1 in-dev');

    const [message] = digests('C0ACME');
    expect(message!.edited).toBe(true);
    const [recorded] = await t.database.handle.db.select().from(sprintDigests);
    expect(recorded).toMatchObject({ channel: 'C0ACME', messageTs: message!.ts, postedAt, renderedRevision: 2 });
  });

  it('shows the team view to the team and the customer view to everyone else', async () => {
    await sprint('start Sprint 42 2026-11-23 2026-12-04');
    await sprint('add Export invoices as PDF');
    await sprint('add internal Upgrade Postgres');
    await t.simulator.command(owner, 'C0PAYINC', '/sprint', 'show');
    await t.idle();
    const [teamDigest, requests] = t.slack.ephemeralsFor(owner).slice(-2);
    expect(blocksText(teamDigest!)).toContain('`F-2` Upgrade Postgres 🔒');
    expect(requests!.text).toBe('No open customer requests for payments.');

    await sprint('show', stranger, 'C0ACME');
    const customerDigest = t.slack.ephemeralsFor(stranger).at(-1)!;
    expect(blocksText(customerDigest)).toContain('Export invoices as PDF');
    expect(blocksText(customerDigest)).not.toContain('Postgres');
    // Requests and subscriptions name other customers' channels.
    for (const text of ['requests', 'subscriptions']) {
      expect(await sprint(text, stranger, 'C0ACME')).toContain('Only the owners, on-call and approvers of payments run its sprints.');
    }
  });

  it('explains what was wrong and what would work', async () => {
    expect(await sprint('start Sprint 42 2026-13-01 2026-12-04')).toBe(
      '`2026-13-01` is not a date. Write dates as YYYY-MM-DD, for example `/sprint start Sprint 42 2026-11-23 2026-12-04`.',
    );
    expect(await sprint('start Sprint 42 2026-12-04 2026-11-23')).toContain('would end (2026-11-23) before it starts (2026-12-04)');
    expect(await sprint('add Something')).toContain('payments has no sprint yet. Start one with `/sprint start');
    expect(await sprint('start Sprint 42 2026-11-23 2026-12-04', stranger)).toBe(
      'Only the owners, on-call and approvers of payments run its sprints. Ask <@U0OWNER>.',
    );
    expect(await sprint('start Sprint 42 2026-11-23 2026-12-04', owner, 'C0GENERAL')).toBe(
      'This channel is not one of a service’s channels in the catalog, so say which service with `service=<name>`. Known services: payments, search.',
    );
    expect(await sprint('show', owner, 'C0SHARED')).toBe(
      'This channel belongs to payments and search. Say which with `service=<name>`, for example `service=payments`.',
    );
    expect(await sprint('show service=billing')).toContain('There is no service "billing" in the catalog. Known services: payments, search.');
    expect(await sprint('frobnicate')).toContain('`/sprint frobnicate` is not something Tandem knows.');

    await sprint('start Sprint 42 2026-11-23 2026-12-04', 'U0LEAD');
    expect(await sprint('start Sprint 42 2026-11-23 2026-12-04', 'U0ONCALL')).toBe('payments already has a sprint named “Sprint 42”. Pick another name.');
    expect(await sprint('start Sprint 41 2026-11-09 2026-11-20')).toContain('The current sprint of payments, Sprint 42, starts 2026-11-23');
    expect(await sprint('status F-9 done')).toBe('Sprint 42 has no feature F-9. It has no features yet: `/sprint add <title>`.');
    await sprint('add Export invoices');
    expect(await sprint('status F-1 shipped')).toContain('`/sprint status` takes a feature and one of planned, in-dev, in-uat, done, dropped');
    expect(await sprint('status F-1 planned')).toBe('F-1 is already planned.');
    expect(await t.database.handle.db.select().from(sprints)).toHaveLength(1);
    expect(await t.database.handle.db.select().from(sprintFeatures)).toHaveLength(1);
  });

  it('answers help with every subcommand', async () => {
    const answer = await t.simulator.command(stranger, 'C0GENERAL', '/sprint', 'help');
    expect(answer.body).toMatchObject({ text: expect.stringContaining('/sprint subscribe #channel [<cron>] [<tz>]') });
  });
});
