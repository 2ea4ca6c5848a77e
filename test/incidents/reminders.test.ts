import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { incidentUpdateSnoozes, incidents } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { TestClock } from '../support/clock';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    channels: { incidents: C0INCIDENTS }
`;

const alice = 'U0ALICE';
const bob = 'U0BOB';
const declaredAt = '2026-11-23T09:00:00Z';
const at = (time: string, day = '2026-11-23') => `${day}T${time}Z`;

describe('incident reminders', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const harness of harnesses.reverse()) await harness.stop();
    harnesses.length = 0;
  });

  let t: Harness;
  let channel: string;
  let incidentId: string;

  const start = async (options: { catalog?: string; declare?: string; alongside?: Harness } = {}) => {
    const harness = options.alongside
      ? await startHarness({ alongside: options.alongside })
      : await startHarness({
          catalog: options.catalog ?? catalog,
          clock: new TestClock(declaredAt),
          workspace: (slack) => {
            slack.addUser({ id: alice, name: 'alice' });
            slack.addUser({ id: bob, name: 'bob' });
            slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice, bob] });
          },
        });
    harnesses.push(harness);
    if (options.alongside) return harness;
    t = harness;
    await t.simulator.command(alice, 'C0GENERAL', '/incident', options.declare ?? 'Checkout failing service=payments sev=1');
    await t.idle();
    const [row] = await t.database.handle.db.select().from(incidents);
    channel = row!.channelId!;
    incidentId = row!.id;
    return harness;
  };
  const command = async (text: string, user = alice) => {
    await t.simulator.command(user, channel, '/incident', text);
    await t.idle();
    return t.slack.ephemeralsFor(user).at(-1)?.text ?? '';
  };
  const tickAt = async (time: string) => {
    t.clock.set(time);
    await t.tandem.scheduler.run('incident-reminders');
    await t.idle();
  };
  const reminders = (kind: 'commander' | 'update' | 'monitoring' | 'any' = 'any') =>
    t.slack.messagesIn(channel).filter((message) => {
      const isCommander = message.text.startsWith('🧭 *INC-1* has had no commander');
      // A snoozed reminder is replaced by who snoozed it.
      const isUpdate = message.text.startsWith('⏰') || message.text.startsWith('😴');
      const isMonitoring = message.text.startsWith('👀');
      if (kind === 'commander') return isCommander;
      if (kind === 'update') return isUpdate;
      if (kind === 'monitoring') return isMonitoring;
      return isCommander || isUpdate || isMonitoring;
    });
  const click = async (user: string, message: FakeMessage, actionId: string) => {
    await t.simulator.click(user, { message }, actionId);
    await t.idle();
  };
  /** A copy of a message as it was, to click its buttons after Tandem replaced it. */
  const snapshot = (message: FakeMessage): FakeMessage => ({ ...message, blocks: structuredClone(message.blocks) });

  describe('no commander', () => {
    it('asks the channel once, ten minutes after declaration, with a button to take command', async () => {
      await start();
      await tickAt(at('09:09:59'));
      expect(reminders()).toHaveLength(0);
      await tickAt(at('09:10:00'));
      await tickAt(at('09:10:30'));
      await tickAt(at('09:25:00'));
      expect(reminders('commander')).toHaveLength(1);
      const question = reminders('commander')[0]!;
      expect(question.text).toContain('has had no commander for 10 minutes');
      const asked = snapshot(question);

      await click(bob, question, 'incident.take_command');
      expect((await t.database.handle.db.select().from(incidents))[0]!.commander).toBe(bob);
      expect(question.text).toBe(`🧭 <@${bob}> took command of *INC-1*.`);
      expect(JSON.stringify(question.blocks ?? [])).not.toContain('incident.take_command');

      // A second volunteer on the old question does not take command from the first.
      await click(alice, asked, 'incident.take_command');
      expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain(`<@${bob}> already commands INC-1.`);
      expect((await t.database.handle.db.select().from(incidents))[0]!.commander).toBe(bob);
    });

    it('does not ask when a commander was named in time', async () => {
      await start();
      await command('commander me');
      await tickAt(at('09:10:00'));
      expect(reminders('commander')).toHaveLength(0);
    });

    it('does not ask once the incident is resolved', async () => {
      await start();
      await command('resolve');
      await tickAt(at('12:00:00'));
      expect(reminders()).toHaveLength(0);
    });
  });

  describe('no update', () => {
    it('reminds the commander after the severity’s interval, then once per interval until an update comes', async () => {
      await start();
      t.clock.set(at('09:01:00'));
      await command('commander me');
      await tickAt(at('09:29:59'));
      expect(reminders('update')).toHaveLength(0);
      await tickAt(at('09:30:00'));
      await tickAt(at('09:45:00'));
      expect(reminders('update')).toHaveLength(1);
      const [first] = reminders('update');
      expect(first!.text).toBe(`⏰ <@${alice}>, *INC-1* (SEV1) has had no update for 30m. Post one so everyone knows where it stands.`);

      await tickAt(at('10:00:00'));
      expect(reminders('update')).toHaveLength(2);

      // An update restarts the interval; a status or severity change counts as one too.
      t.clock.set(at('10:05:00'));
      await command('update Rolled back, error rate falling');
      await tickAt(at('10:34:59'));
      expect(reminders('update')).toHaveLength(2);
      await tickAt(at('10:35:00'));
      expect(reminders('update')).toHaveLength(3);
      t.clock.set(at('10:40:00'));
      await command('status identified');
      await tickAt(at('11:09:00'));
      expect(reminders('update')).toHaveLength(3);
      await tickAt(at('11:10:00'));
      expect(reminders('update')).toHaveLength(4);

      // Post update opens the update modal.
      await click(alice, reminders('update').at(-1)!, 'incident.update');
      const [view] = t.slack.openViews(alice);
      expect(view!.view.callback_id).toBe('incident.update');
    });

    it('counts from the declaration and reminds the channel when nobody commands the incident', async () => {
      await start({ declare: 'Checkout failing service=payments sev=2' });
      await tickAt(at('09:59:00'));
      expect(reminders('update')).toHaveLength(0);
      await tickAt(at('10:00:00'));
      expect(reminders('update')[0]!.text).toContain('⏰ *INC-1* (SEV2) has had no update for 1h. Post one so everyone knows where it stands. It has no commander either');
    });

    it('never reminds a SEV4 by default', async () => {
      await start({ declare: 'Typo on the pricing page service=payments sev=4' });
      await command('commander me');
      await tickAt(at('09:00:00', '2026-11-24'));
      expect(reminders()).toHaveLength(0);
    });

    it('follows the catalog’s intervals', async () => {
      await start({ catalog: `${catalog}incidents:\n  update_every_minutes: { 4: 15 }\n`, declare: 'Typo on the pricing page service=payments sev=4' });
      await command('commander me');
      await tickAt(at('09:14:00'));
      expect(reminders('update')).toHaveLength(0);
      await tickAt(at('09:15:00'));
      expect(reminders('update')).toHaveLength(1);
      // SEV3 is not listed in this catalog, so it is never reminded.
      await command('sev 3');
      await tickAt(at('18:00:00'));
      expect(reminders('update')).toHaveLength(1);
    });

    it('stops when the incident is resolved', async () => {
      await start();
      await command('commander me');
      await tickAt(at('09:30:00'));
      expect(reminders('update')).toHaveLength(1);
      t.clock.set(at('09:35:00'));
      await command('resolve Rolled back');
      for (const time of ['10:00:00', '10:30:00', '14:00:00']) await tickAt(at(time));
      await tickAt(at('10:00:00', '2026-11-25'));
      expect(reminders()).toHaveLength(1);
    });
  });

  describe('snooze', () => {
    for (const [minutes, actionId] of [
      [30, 'incident.snooze_30'],
      [60, 'incident.snooze_60'],
      [240, 'incident.snooze_240'],
    ] as const) {
      it(`snoozes for ${minutes} minutes, then reminds again`, async () => {
        await start();
        await command('commander me');
        await tickAt(at('09:30:00'));
        const reminder = reminders('update')[0]!;
        t.clock.set(at('09:31:00'));
        await click(alice, reminder, actionId);
        expect(reminder.text).toContain(`😴 <@${alice}> snoozed the update reminder of *INC-1*`);
        expect(JSON.stringify(reminder.blocks ?? [])).not.toContain('incident.snooze');
        const [stored] = await t.database.handle.db.select().from(incidentUpdateSnoozes).where(eq(incidentUpdateSnoozes.incidentId, incidentId));
        const until = new Date(new Date(at('09:31:00')).getTime() + minutes * 60_000);
        expect(stored).toMatchObject({ snoozedBy: alice, until });

        // The reminder due at 10:00 (every 30 minutes) waits for the snooze.
        await tickAt(new Date(until.getTime() - 1_000).toISOString());
        expect(reminders('update')).toHaveLength(1);
        await tickAt(until.toISOString());
        await tickAt(new Date(until.getTime() + 60_000).toISOString());
        expect(reminders('update')).toHaveLength(2);
        await tickAt(new Date(until.getTime() + 30 * 60_000).toISOString());
        expect(reminders('update')).toHaveLength(3);
      });
    }

    it('lets only the commander snooze, and refuses a reminder answered since', async () => {
      await start();
      await command('commander me');
      await tickAt(at('09:30:00'));
      const reminder = reminders('update')[0]!;
      const original = snapshot(reminder);

      await click(bob, reminder, 'incident.snooze_60');
      expect(t.slack.ephemeralsFor(bob).at(-1)!.text).toBe(
        `Only the commander, <@${alice}>, snoozes the update reminders of INC-1. Post an update instead.`,
      );
      expect(await t.database.handle.db.select().from(incidentUpdateSnoozes)).toHaveLength(0);

      await click(alice, reminder, 'incident.snooze_30');
      await click(alice, original, 'incident.snooze_240');
      expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain(`<@${alice}> already snoozed this reminder until`);
      const [stored] = await t.database.handle.db.select().from(incidentUpdateSnoozes);
      expect(stored!.until).toEqual(new Date(at('10:00:00')));

      // The next reminder, then an update: its snooze buttons are stale.
      await tickAt(at('10:00:00'));
      const next = reminders('update')[1]!;
      t.clock.set(at('10:02:00'));
      await command('update Still investigating');
      await click(alice, next, 'incident.snooze_60');
      expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toBe('INC-1 has had an update since this reminder, so there is nothing to snooze.');

      // And once resolved, nothing is snoozed either.
      await command('resolve');
      await click(alice, original, 'incident.snooze_60');
      expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain('INC-1 is already resolved');
      expect((await t.database.handle.db.select().from(incidentUpdateSnoozes))[0]!.until).toEqual(new Date(at('10:00:00')));
    });

    it('refuses a damaged snooze button', async () => {
      await start();
      await command('commander me');
      await tickAt(at('09:30:00'));
      const reminder = snapshot(reminders('update')[0]!);
      const buttons = (reminder.blocks![1] as { elements: Array<{ value: string }> }).elements;
      for (const button of buttons) button.value = 'not-an-incident|x';
      await click(alice, reminder, 'incident.snooze_60');
      expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain('That button is out of date or damaged');
    });
  });

  it('asks whether an incident monitored for 24 hours can be resolved, with a Resolve button', async () => {
    await start({ declare: 'Checkout failing service=payments sev=4' });
    await command('commander me');
    t.clock.set(at('09:05:00'));
    await command('status monitoring');
    // A note while monitoring does not restart the day.
    t.clock.set(at('15:00:00'));
    await command('status monitoring Still clean');
    await tickAt(at('09:04:59', '2026-11-24'));
    expect(reminders('monitoring')).toHaveLength(0);
    await tickAt(at('09:05:00', '2026-11-24'));
    await tickAt(at('12:00:00', '2026-11-24'));
    expect(reminders('monitoring')).toHaveLength(1);
    const question = reminders('monitoring')[0]!;
    expect(question.text).toBe(`👀 <@${alice}>, *INC-1* has been monitoring for 24 hours. Can it be resolved?`);
    await click(alice, question, 'incident.resolve');
    const [view] = t.slack.openViews(alice);
    expect(view!.view.callback_id).toBe('incident.resolve');

    await tickAt(at('09:05:00', '2026-11-25'));
    expect(reminders('monitoring')).toHaveLength(2);
    await command('resolve');
    await tickAt(at('09:05:00', '2026-11-26'));
    expect(reminders('monitoring')).toHaveLength(2);
  });

  it('keeps a private incident’s reminders inside its channel', async () => {
    await start({ declare: 'Leaked credentials service=payments sev=1 --private' });
    expect(t.slack.channels.get(channel)!.isPrivate).toBe(true);
    const before = t.slack.callsOf('chat.postMessage').length;
    await tickAt(at('09:10:00'));
    await tickAt(at('09:30:00'));
    await t.simulator.command(alice, channel, '/incident', 'status monitoring');
    await t.idle();
    await tickAt(at('09:30:00', '2026-11-24'));
    expect(reminders('commander')).toHaveLength(1);
    expect(reminders('update').length).toBeGreaterThan(0);
    expect(reminders('monitoring')).toHaveLength(1);
    const posted = t.slack.callsOf('chat.postMessage').slice(before);
    expect(posted.every((call) => call.channel === channel)).toBe(true);
  });

  it.skipIf(!inject('postgres'))('posts each reminder once with two instances ticking the same minute', async () => {
    const first = await start();
    const second = await start({ alongside: first });
    for (const time of ['09:10:00', '09:30:00', '09:30:30', '10:00:00']) {
      first.clock.set(at(time));
      await Promise.all([first, second, first, second].map((instance) => instance.tandem.scheduler.run('incident-reminders')));
      await Promise.all([first.idle(), second.idle()]);
    }
    await second.restart();
    await Promise.all([first.idle(), second.idle()]);
    expect(reminders('commander')).toHaveLength(1);
    expect(reminders('update')).toHaveLength(2);
  });
});
