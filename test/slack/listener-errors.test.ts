import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changes, incidents } from '../../src/db/schema';
import type { FakeEphemeral, FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';
import { form, postSigned, submissionOf } from './signed';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    approvers: { users: [U0APPROVER] }
    channels: { incidents: C0INCIDENTS }
`;

const alice = 'U0ALICE';
const general = 'C0GENERAL';

/** The same message with every button `actionId` carrying `value` instead: an old or tampered button. */
function withButtonValue<M extends { blocks?: Array<Record<string, unknown>> }>(message: M, actionId: string, value: string): M {
  const blocks = structuredClone(message.blocks ?? []);
  for (const block of blocks) {
    for (const element of (block.elements as Array<Record<string, unknown>> | undefined) ?? []) {
      if (element.action_id === actionId) element.value = value;
    }
  }
  return { ...message, blocks };
}

describe('the shared error path of Slack listeners', () => {
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

  const lastEphemeral = () => t.slack.ephemeralsFor(alice).at(-1)?.text;
  const declare = async () => {
    await t.simulator.command(alice, general, '/incident', 'Checkout failing service=payments');
    await t.idle();
  };
  const summary = (): FakeMessage => {
    const channel = t.slack.channelByName('inc-20261123-1-checkout-failing')!;
    return t.slack.messagesIn(channel.id).find((message) => message.pinned)!;
  };

  it('shows a form field Slack sent in a shape Tandem cannot read as an error on that field, and records nothing', async () => {
    await t.simulator.command(alice, general, '/change');
    await t.idle();
    const [view] = t.slack.openViews(alice);
    const answer = await postSigned(
      t,
      form(
        submissionOf(t, alice, view!.id, {
          values: {
            service: { value: { type: 'static_select', selected_option: { value: 'payments' } } },
            title: { value: { type: 'plain_text_input', value: 'Rotate keys' } },
            type: { value: { type: 'static_select', selected_option: { value: 'normal' } } },
            planned_start: { value: { type: 'datetimepicker', selected_date_time: 'tomorrow' } },
          },
        }),
      ),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      response_action: 'errors',
      errors: { planned_start: 'Slack sent this field in a shape Tandem cannot read, so nothing was saved. Fill it in again and submit.' },
    });
    await t.idle();
    expect(await t.database.handle.db.select().from(changes)).toHaveLength(0);
  });

  it('tells the person when a Link cause button carries a bad value', async () => {
    await declare();
    await t.simulator.click(alice, { message: withButtonValue(summary(), 'incident.link_cause', 'not-an-incident') }, 'incident.link_cause');
    await t.idle();
    expect(lastEphemeral()).toBe('That button is out of date or damaged, so nothing changed. Use the buttons on the latest message instead.');
    expect(t.slack.openViews(alice)).toHaveLength(0);
  });

  it('tells the person when a Try again button carries a bad value, and sets nothing up', async () => {
    t.slack.failNext('conversations.create', { error: 'missing_scope', extra: { needed: 'channels:manage', provided: 'chat:write' } });
    await declare();
    const offer: FakeEphemeral = t.slack.ephemeralsFor(alice).at(-1)!;
    expect(offer.text).toContain('its channel could not be created');
    await t.simulator.click(alice, { ephemeral: withButtonValue(offer, 'incident.retry_setup', '00000000-0000-4000-8000-00000000000') }, 'incident.retry_setup');
    await t.idle();
    expect(lastEphemeral()).toBe('That button is out of date or damaged, so nothing changed. Use the buttons on the latest message instead.');
    expect(t.slack.callsOf('conversations.create')).toHaveLength(1);
  });

  it('tells the person when a click fails after its ack, naming what Slack said', async () => {
    await declare();
    t.slack.failNext('views.open', { error: 'expired_trigger_id' });
    await t.simulator.click(alice, { message: summary() }, 'incident.status');
    await t.idle();
    expect(lastEphemeral()).toBe('Tandem could not act on that click. Slack said `expired_trigger_id`. (logged)');
  });

  it('tells the person when a command fails after its ack', async () => {
    t.slack.failNext('views.open', { error: 'expired_trigger_id' });
    await t.simulator.command(alice, general, '/incident');
    await t.idle();
    expect(lastEphemeral()).toBe('Tandem could not run `/incident`. Slack said `expired_trigger_id`. (logged)');
    expect(await t.database.handle.db.select().from(incidents)).toHaveLength(0);
  });
});
