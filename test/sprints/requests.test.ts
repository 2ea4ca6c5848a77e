import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { customerRequests } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER]
    channels: { incidents: C0PAYINC, customers: [C0ACME] }
    request_followup_days: 3
`;
const owner = 'U0OWNER';
const csm = 'U0CSM';
const customer = 'U0CUSTOMER';

describe('customer requests', () => {
  let t: Harness;

  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: csm, name: 'csm' });
        slack.addUser({ id: customer, name: 'customer' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general' });
      },
    });
    await command('start Sprint 42 2026-11-23 2026-12-04');
    await command('add Export invoices as PDF');
    await command('add internal Rework the billing ledger');
  });
  afterEach(() => t.stop());

  async function command(text: string, user = owner) {
    await t.simulator.command(user, 'C0PAYINC', '/sprint', text);
    await t.idle();
    return t.slack.ephemeralsFor(user).at(-1)?.text ?? '';
  }
  async function track(message: FakeMessage, user = csm) {
    await t.simulator.shortcut(user, message, 'sprint.track_request');
    await t.idle();
    return t.slack.openViews(user).at(-1);
  }
  const requests = () => t.database.handle.db.select().from(customerRequests);
  const thread = (message: FakeMessage) => t.slack.messages.filter((reply) => reply.threadTs === message.ts);
  const dms = (user: string) => t.slack.messagesIn(t.slack.imWith(user).id).map((message) => message.text);

  it('tracks a message, links it to a feature, and tells the thread when the feature ships', async () => {
    const ask = t.slack.post('C0ACME', { text: 'Could we get our invoices as PDF?', user: customer });
    const view = await track(ask);
    const [request] = await requests();
    expect(request).toMatchObject({
      number: 1,
      channel: 'C0ACME',
      messageTs: ask.ts,
      text: 'Could we get our invoices as PDF?',
      requester: customer,
      trackedBy: csm,
      featureId: null,
      permalink: expect.stringContaining('/archives/C0ACME/p'),
    });
    expect(JSON.stringify(view!.view.blocks)).toContain('Tracked as *R-1*');

    const submitted = await t.simulator.submit(csm, view!.id, { feature: (await featureId('F-1'))! });
    expect(submitted.errors).toBeUndefined();
    await t.idle();
    expect(dms(csm).at(-1)).toContain('is answered by `F-1` Export invoices as PDF. The channel is told in the thread when it ships.');
    expect(await command('requests')).toContain('in <#C0ACME> → `F-1` Export invoices as PDF (planned)');
    expect(thread(ask)).toHaveLength(0);

    await command('status F-1 done');
    expect(thread(ask).map((reply) => reply.text)).toEqual([
      '✅ Good news: *Export invoices as PDF*, which answers this request, has shipped. Thank you for asking! _(Reference R-1)_',
    ]);
    // Reopening and shipping again does not tell them twice.
    await command('status F-1 in-uat');
    await command('status F-1 done');
    expect(thread(ask)).toHaveLength(1);
    expect(await command('requests')).toBe('No open customer requests for payments.');
  });

  it('never names an internal feature to the customer', async () => {
    const ask = t.slack.post('C0ACME', { text: 'Refunds show twice on our statement', user: customer });
    await track(ask);
    expect(await command('link R-1 F-2')).toContain('is answered by `F-2` Rework the billing ledger');
    await command('status F-2 done');
    expect(thread(ask).map((reply) => reply.text)).toEqual([
      '✅ Good news: The change that answers this request has shipped. Thank you for asking! _(Reference R-1)_',
    ]);
  });

  it('offers outsiders, customers included, only the customer-visible features in the form', async () => {
    const ask = t.slack.post('C0ACME', { text: 'Refunds show twice on our statement', user: customer });
    const optionsOf = (view: Awaited<ReturnType<typeof track>>) =>
      ((view!.view.blocks as Array<{ element?: { options?: Array<{ text: { text: string } }> } }>).find((block) => block.element?.options)?.element?.options ?? []).map(
        (option) => option.text.text,
      );
    // A customer-success lead and the customer (a Slack Connect guest) are outside the service's team.
    for (const outsider of [csm, customer]) {
      const view = await track(ask, outsider);
      expect(optionsOf(view)).toEqual(['Export invoices as PDF']);
      expect(JSON.stringify(view)).not.toContain('billing ledger');
    }
    const view = await track(ask, owner);
    expect(optionsOf(view)).toEqual(['F-1 · Export invoices as PDF', 'F-2 · 🔒 Rework the billing ledger']);
  });

  it('checks the team before `/sprint link` says anything about a feature', async () => {
    const ask = t.slack.post('C0ACME', { text: 'Refunds show twice on our statement', user: customer });
    await track(ask);
    for (const outsider of [csm, customer]) {
      for (const text of ['link R-1 F-2', 'link R-1 F-9', 'link R-1 F-1', 'link R-7 F-2']) {
        expect(await command(text, outsider)).toBe('Only the owners, on-call and approvers of a service link its customer requests to features.');
      }
      expect(await command('link R-1 F-2 service=payments', outsider)).toBe('Only the owners, on-call and approvers of payments run its sprints. Ask <@U0OWNER>.');
    }
    const [request] = await requests();
    expect(request!.featureId).toBeNull();
    expect(await command('link R-1 F-2')).toContain('is answered by `F-2` Rework the billing ledger');
  });

  it('tracks a message once, and explains where tracking does not apply', async () => {
    const ask = t.slack.post('C0ACME', { text: 'Dark mode please', user: customer });
    await track(ask);
    const again = await track(ask);
    expect(JSON.stringify(again!.view.blocks)).toContain('This message is already tracked as *R-1*.');
    expect(await requests()).toHaveLength(1);

    const internal = t.slack.post('C0GENERAL', { text: 'Lunch?', user: csm });
    expect(await track(internal, owner)).toBeUndefined();
    expect(t.slack.ephemeralsFor(owner).at(-1)!.text).toBe(
      'Customer requests are tracked from customer channels, and <#C0GENERAL> is not one. A service lists its customer channels under services.<name>.channels.customers in tandem.yaml.',
    );
    expect(await requests()).toHaveLength(1);
  });

  it('answers a stale form politely and changes nothing', async () => {
    const ask = t.slack.post('C0ACME', { text: 'Invoices as PDF?', user: customer });
    const view = await track(ask);
    await command('link R-1 F-1');
    await command('status F-1 done');
    // The form offered this outsider F-1 only; submitting it after the request shipped changes nothing.
    const late = await t.simulator.submit(csm, view!.id, { feature: (await featureId('F-1'))! });
    expect(late.errors).toEqual({ feature: 'R-1 was answered already and its channel was told; nothing to change.' });
    expect(await command('link R-1 F-2')).toBe('R-1 was answered already and its channel was told; nothing to change.');
    expect(await command('link R-7 F-2')).toBe('There is no customer request R-7. `/sprint requests` lists the open ones.');
    expect(await command('link R-1 F-9')).toBe('Sprint 42 (payments) has no feature F-9. `/sprint show` lists its features.');
    expect(thread(ask)).toHaveLength(1);
  });

  it('reminds the owners daily, once, about requests without a feature after the configured days', async () => {
    const remind = async () => {
      await t.tandem.scheduler.run('customer-request-reminders');
      await t.idle();
    };
    const first = t.slack.post('C0ACME', { text: 'Can we export to CSV?', user: customer });
    await track(first);
    t.clock.advance(2 * 86_400_000);
    const second = t.slack.post('C0ACME', { text: 'SSO with Okta?', user: customer });
    await track(second);

    t.clock.set('2026-11-27T09:00:00Z'); // four days after the first, two after the second
    await remind();
    await remind();
    expect(dms(owner)).toHaveLength(1);
    expect(dms(owner)[0]).toContain('🕰️ 1 customer request has waited more than 3 days for a feature in *payments*:');
    expect(dms(owner)[0]).toContain('R-1 “Can we export to CSV?”');
    expect(dms(owner)[0]).not.toContain('SSO');

    t.clock.set('2026-11-29T09:00:00Z');
    await command('link R-1 F-1');
    await remind();
    expect(dms(owner)).toHaveLength(2);
    expect(dms(owner)[1]).toContain('R-2 “SSO with Okta?”');
    expect(dms(owner)[1]).not.toContain('R-1');
  });

  async function featureId(key: string): Promise<string | undefined> {
    const rows = await t.database.handle.db.query.sprintFeatures.findMany();
    return rows.find((row) => row.key === key)?.id;
  }
});
