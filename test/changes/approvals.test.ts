import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeAudit, changes, changeVotes } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    approvers: { groups: [fintech-leads], quorum: 2 }
    channels: { approvals: C0APPROVALS }
  search:
    approvers: { users: [U0CAROL], remind_after_hours: 2, expire_after_days: 3 }
groups:
  fintech-leads: [U0ANN, U0BEN, U0CAT]
freeze:
  - { from: "2026-12-20", to: "2027-01-03", services: ["*"], reason: Year-end freeze }
`;

const [ann, ben, cat, dev, eve] = ['U0ANN', 'U0BEN', 'U0CAT', 'U0DEV', 'U0EVE'];

describe('change approvals in Slack', () => {
  let t: Harness;
  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: dev, name: 'dev' });
        slack.addUser({ id: eve, name: 'eve' });
        slack.addChannel({ id: 'C0DEVS', name: 'devs', members: [dev, ann, eve] });
      },
    });
  });
  afterEach(() => t.stop());

  const db = () => t.database.handle.db;
  const change = async (number = 1) => (await db().select().from(changes).where(eq(changes.number, number)))[0]!;
  const votes = async () => db().select().from(changeVotes);
  const audit = async () => db().select().from(changeAudit).orderBy(asc(changeAudit.id));
  const approvalMessage = (): FakeMessage => t.slack.messagesIn('C0APPROVALS')[0]!;
  const hasButtons = (message: FakeMessage) => JSON.stringify(message.blocks).includes('change.approve');
  const lastReply = (user: string) => t.slack.ephemeralsFor(user).at(-1)?.text;
  const request = async (text: string, user = dev) => {
    await t.simulator.command(user, 'C0DEVS', '/change', text);
    await t.idle();
  };
  const click = async (user: string, message: FakeMessage, action: 'change.approve' | 'change.reject', deliveries = 1) => {
    await t.simulator.click(user, { message }, action, { deliveries });
    await t.idle();
  };

  it('posts a normal change to the approvals channel and decides it once the quorum approves', async () => {
    await request('payments Rotate card-vault keys env=production ref=v2.3.1');
    expect(lastReply(dev)).toBe('Requested *CHG-1* Rotate card-vault keys: waiting for approval in <#C0APPROVALS>.');
    const message = approvalMessage();
    expect(message.text).toBe('CHG-1 · Rotate card-vault keys: ⏳ Waiting for approval');
    expect(JSON.stringify(message.blocks)).toContain('Needs 2 approvals from *fintech-leads*; the requester cannot approve.');
    expect(hasButtons(message)).toBe(true);

    await click(ann, message, 'change.approve');
    expect(lastReply(ann)).toBe('You approved CHG-1. 1 more approval needed.');
    expect((await change()).status).toBe('pending');
    expect(JSON.stringify(approvalMessage().blocks)).toContain('Approved so far by <@U0ANN>.');

    await click(ben, approvalMessage(), 'change.approve');
    const decided = await change();
    expect(decided).toMatchObject({ status: 'approved', decidedBy: [ann, ben] });
    expect(lastReply(ben)).toBe('You approved CHG-1: it is now approved.');
    const updated = approvalMessage();
    expect(updated.edited).toBe(true);
    expect(hasButtons(updated)).toBe(false);
    expect(JSON.stringify(updated.blocks)).toContain('✅ Approved by <@U0ANN>, <@U0BEN> <!date^');
    const dms = t.slack.messagesIn(t.slack.imWith(dev).id).map((message) => message.text);
    expect(dms[0]).toBe('<@U0ANN> approved *CHG-1* Rotate card-vault keys (1 of 2).');
    expect(dms[1]).toContain('*CHG-1* Rotate card-vault keys is approved.');
    expect(dms).toHaveLength(2);
    expect((await audit()).map((entry) => entry.action)).toEqual(['requested', 'vote', 'vote', 'approved']);
  });

  it('refuses the requester’s own approval and anyone outside the approver groups', async () => {
    await request('payments Raise payout limit', ann);
    await click(ann, approvalMessage(), 'change.approve');
    expect(lastReply(ann)).toBe('You requested CHG-1, so someone else has to approve it (separation of duties).');
    await click(eve, approvalMessage(), 'change.approve');
    expect(lastReply(eve)).toBe('Only *fintech-leads* may vote on payments changes.');
    // Reject asks for a reason first; the same rule, in the same words, keeps the form closed.
    await click(ann, approvalMessage(), 'change.reject');
    expect(lastReply(ann)).toBe('You requested CHG-1, so someone else has to approve it (separation of duties).');
    await click(eve, approvalMessage(), 'change.reject');
    expect(lastReply(eve)).toBe('Only *fintech-leads* may vote on payments changes.');
    expect([...t.slack.openViews(ann), ...t.slack.openViews(eve)]).toHaveLength(0);
    expect(await votes()).toHaveLength(0);
  });

  it('counts a double click and a retried delivery once', async () => {
    await request('payments Enable 3DS v2');
    await click(ann, approvalMessage(), 'change.approve', 3);
    await click(ann, approvalMessage(), 'change.approve');
    expect(lastReply(ann)).toBe('You already voted on CHG-1; votes are final.');
    expect(await votes()).toHaveLength(1);
    expect((await change()).status).toBe('pending');
  });

  it('decides exactly once when the deciding votes arrive together', async () => {
    await request('payments Migrate ledger index');
    const message = approvalMessage();
    await Promise.all([ann, ben, cat].map((user) => t.simulator.click(user, { message }, 'change.approve')));
    await t.idle();
    const decided = await change();
    expect(decided.status).toBe('approved');
    expect(decided.decidedBy).toHaveLength(2);
    expect((await audit()).filter((entry) => entry.action === 'approved')).toHaveLength(1);
    const refused = [ann, ben, cat].filter((user) => lastReply(user)?.includes('no longer waiting for approval'));
    expect(refused).toHaveLength(1);
    expect(await votes()).toHaveLength(2);
  });

  it('answers a stale button politely and changes nothing', async () => {
    await request('payments Rename settlement job');
    const stale = structuredClone(approvalMessage());
    await click(ann, approvalMessage(), 'change.approve');
    await click(ben, approvalMessage(), 'change.approve');
    await click(cat, stale, 'change.approve');
    expect(lastReply(cat)).toBe('CHG-1 is no longer waiting for approval (approved), so nothing changed.');
    await click(cat, stale, 'change.reject');
    expect(t.slack.openViews(cat)).toHaveLength(0);
    expect(await votes()).toHaveLength(2);
  });

  it('asks for a reason before rejecting, and one rejection ends it', async () => {
    await request('payments Switch PSP in peak season');
    await click(ann, approvalMessage(), 'change.approve');
    await click(cat, approvalMessage(), 'change.reject');
    const [view] = t.slack.openViews(cat);
    const empty = await t.simulator.submit(cat, view!.id, { reason: '' });
    expect(empty.errors).toEqual({ reason: 'Say why you reject it.' });
    expect((await change()).status).toBe('pending');
    await t.simulator.submit(cat, view!.id, { reason: 'Not during Black Friday' });
    await t.idle();
    expect(await change()).toMatchObject({ status: 'rejected', decidedBy: [cat], decisionReason: 'Not during Black Friday' });
    expect(JSON.stringify(approvalMessage().blocks)).toContain('⛔ Rejected by <@U0CAT>');
    expect(t.slack.messagesIn(t.slack.imWith(dev).id).at(-1)!.text).toContain('Not during Black Friday');
  });

  it('blocks non-emergency changes in a freeze window and says why', async () => {
    t.clock.set('2026-12-22T10:00:00Z');
    await request('payments Tweak fraud rules');
    expect(lastReply(dev)).toContain('Changes to payments are frozen from 2026-12-20 to 2027-01-03 (Year-end freeze). Only emergency changes, with a justification, may go ahead.');
    expect(await change()).toMatchObject({ status: 'rejected', decidedBy: ['policy'], policy: { rule: 'freeze_window' } });
    expect(t.slack.messagesIn('C0APPROVALS')).toHaveLength(0);
  });

  it('lets an emergency through with a recorded justification, announces it and flags it for review', async () => {
    t.clock.set('2026-12-22T10:00:00Z');
    await request('payments Hotfix double charge type=emergency');
    const [view] = t.slack.openViews(dev);
    expect(view!.view.callback_id).toBe('change.request');
    const missing = await t.simulator.submit(dev, view!.id, { service: 'payments', title: 'Hotfix double charge', type: 'emergency', environment: 'production' });
    expect(missing.errors).toEqual({ description: expect.stringMatching(/^Justification is required for an emergency change/) });
    await t.simulator.submit(dev, view!.id, {
      service: 'payments',
      title: 'Hotfix double charge',
      type: 'emergency',
      environment: 'production',
      description: 'Customers are charged twice since 09:40',
    });
    await t.idle();
    expect(await change()).toMatchObject({
      status: 'approved',
      reviewRequired: true,
      justification: 'Customers are charged twice since 09:40',
      policy: { rule: 'emergency' },
    });
    expect(approvalMessage().text).toContain('🚨 Emergency change *CHG-1* Hotfix double charge');
    expect(hasButtons(approvalMessage())).toBe(false);

    await request('list', ann);
    expect(lastReply(ann)).toContain('*Emergency changes awaiting review*');
    await request('reviewed CHG-1', ann);
    expect((await change()).reviewRequired).toBe(false);
  });

  it('lists open changes and lets the requester cancel, but not a bystander', async () => {
    await request('payments Drop legacy webhook');
    await request('list', eve);
    expect(lastReply(eve)).toContain('*CHG-1* Drop legacy webhook · payments → production · ⏳ Waiting for approval');
    await request('cancel CHG-1', eve);
    expect(lastReply(eve)).toBe('Only the requester or payments\'s approvers may cancel CHG-1.');
    await request('cancel CHG-1', dev);
    expect((await change()).status).toBe('cancelled');
    expect(hasButtons(approvalMessage())).toBe(false);
  });

  it('answers `/change list` in its ack, both lists from one query, with no second message', async () => {
    await request('payments Drop legacy webhook');
    await request('search Hotfix reindex type=emergency');
    const [form] = t.slack.openViews(dev);
    await t.simulator.submit(dev, form!.id, { service: 'search', title: 'Hotfix reindex', type: 'emergency', environment: 'production', description: 'Search is empty' });
    await t.idle();
    const delivery = await t.simulator.command(eve, 'C0DEVS', '/change', 'list');
    await t.idle();
    expect(delivery.status).toBe(200);
    const answer = (delivery.body as { text: string }).text;
    expect(delivery.body).toMatchObject({ response_type: 'ephemeral' });
    expect(answer).toContain('*CHG-1* Drop legacy webhook · payments → production · ⏳ Waiting for approval');
    expect(answer).toContain('*Emergency changes awaiting review* (sign off with `/change reviewed CHG-n`)\n• *CHG-2* Hotfix reindex · search');
    // Nothing follows through the response_url: the ack was the answer.
    expect(t.slack.ephemeralsFor(eve).map((ephemeral) => ephemeral.text)).toEqual([answer]);

    // The service filter applies to both lists.
    const onlyPayments = await t.simulator.command(eve, 'C0DEVS', '/change', 'list payments');
    expect((onlyPayments.body as { text: string }).text).toBe(
      '*Open changes of payments*\n• *CHG-1* Drop legacy webhook · payments → production · ⏳ Waiting for approval · <@U0DEV>',
    );
  });

  it('answers `/change reviewed` without a change with what it takes', async () => {
    await request('reviewed', ann);
    expect(lastReply(ann)).toBe('`/change reviewed` takes the emergency change whose review you sign off, for example `/change reviewed CHG-42`.');
    await request('reviewed CHG-9', ann);
    expect(lastReply(ann)).toBe('There is no CHG-9.');
  });

  it('reads `/change list <service>` as a filter, never as a change to a service named "list"', async () => {
    await request('payments Drop legacy webhook');
    await request('search Reindex catalog');
    await request('list payments', eve);
    expect(lastReply(eve)).toContain('*Open changes of payments*');
    expect(lastReply(eve)).toContain('Drop legacy webhook');
    expect(lastReply(eve)).not.toContain('Reindex catalog');
    await request('list foo', eve);
    expect(lastReply(eve)).toBe('There is no service "foo" to list. Known services: payments, search; `/change list` shows every open change.');
    await request('list payments webhook', eve);
    expect(lastReply(eve)).toBe('`/change list` takes at most a service: `/change list` for every open change, `/change list payments` for one service’s.');
    expect(await db().select().from(changes)).toHaveLength(2);
  });

  it('drops NUL characters from Slack text instead of failing in the database', async () => {
    await request('payments Drop\u0000 legacy webhook');
    expect(lastReply(dev)).toMatch(/^Requested \*CHG-1\* Drop legacy webhook/);
    await request('');
    const [view] = t.slack.openViews(dev);
    await t.simulator.submit(dev, view!.id, {
      service: 'payments',
      title: 'Rotate\u0000 keys',
      type: 'normal',
      environment: 'production',
      description: 'Quarterly\u0000 rotation',
    });
    await t.idle();
    expect(await change(2)).toMatchObject({ title: 'Rotate keys', description: 'Quarterly rotation' });
  });

  it('refuses unknown services and services that cannot reach their quorum', async () => {
    await request('billing Switch provider');
    expect(lastReply(dev)).toBe('service there is no service "billing"; known services: payments, search');
    await request('search Reindex', 'U0CAROL');
    expect(lastReply('U0CAROL')).toContain('search needs 1 approval but has 0 approvers other than the requester');
    expect(await db().select().from(changes)).toHaveLength(0);
  });

  it('sends approval requests to each approver when the service has no approvals channel', async () => {
    await request('search Reindex catalog');
    const dm = t.slack.messagesIn(t.slack.imWith('U0CAROL').id)[0]!;
    expect(hasButtons(dm)).toBe(true);
    await click('U0CAROL', dm, 'change.approve');
    expect((await change()).status).toBe('approved');
    expect(hasButtons(t.slack.messagesIn(t.slack.imWith('U0CAROL').id)[0]!)).toBe(false);
  });

  it('reminds approvers once per interval and expires undecided changes', async () => {
    await request('search Reindex catalog');
    t.clock.advance(60 * 60_000);
    await t.tandem.scheduler.run('change-reminders');
    await t.idle();
    const carolDm = () => t.slack.messagesIn(t.slack.imWith('U0CAROL').id);
    expect(carolDm()).toHaveLength(1);

    t.clock.advance(61 * 60_000);
    await t.tandem.scheduler.run('change-reminders');
    await t.tandem.scheduler.run('change-reminders');
    await t.idle();
    expect(carolDm().map((message) => message.text).filter((text) => text.startsWith('⏰'))).toEqual(['⏰ CHG-1 has waited 2h for approval. <@U0CAROL>']);

    t.clock.advance(3 * 86_400_000);
    await t.tandem.scheduler.run('change-expiry');
    await t.idle();
    expect(await change()).toMatchObject({ status: 'cancelled', decidedBy: ['policy'], decisionReason: 'expired after 3 days without a decision' });
  });
});
