import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    oncall: [U0ONCALL]
    channels: { incidents: C0INCIDENTS, customers: [C0ACME] }
    default_severity: 2
`;

describe('declaring an incident with /incident', () => {
  let t: Harness;
  beforeEach(async () => {
    t = await startHarness({ catalog, workspace: (slack) => slack.addUser({ id: 'U0ALICE', name: 'alice' }) });
  });
  afterEach(() => t.stop());

  it('opens a channel, invites responders, pins a summary and announces it', async () => {
    const answer = await t.simulator.command('U0ALICE', 'C0INCIDENTS', '/incident', 'Checkout returns 500s');
    expect(answer.status).toBe(200);
    await t.idle();

    const channel = t.slack.channelByName('inc-20261123-1-checkout-returns-500s');
    expect(channel).toBeDefined();
    expect([...channel!.members]).toEqual(expect.arrayContaining(['U0ALICE', 'U0ONCALL', 'U0OWNER1']));
    const summary = t.slack.messagesIn(channel!.id)[0]!;
    expect(summary.pinned).toBe(true);
    expect(summary.text).toContain('INC-1');
    expect(summary.text).toContain('SEV2');
    const announced = t.slack.messagesIn('C0INCIDENTS');
    expect(announced).toHaveLength(1);
    expect(announced[0]!.text).toContain(`<#${channel!.id}>`);
    expect(t.slack.messagesIn('C0ACME')[0]!.text).toContain('investigating an issue affecting *payments*');
    const reply = t.slack.ephemeralsFor('U0ALICE').at(-1)!;
    expect(reply.text).toContain(`Declared *INC-1*: join <#${channel!.id}>`);
  });
});
