import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentEvents, incidentRoles, incidents } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER1]
    channels: { incidents: C0INCIDENTS }
`;

const alice = 'U0ALICE';
const bob = 'U0BOB';
const carol = 'U0CAROL';

describe('incident roles', () => {
  let t: Harness;
  let channel: string;
  let incidentId: string;

  const start = async (catalogText = catalog) => {
    t = await startHarness({
      catalog: catalogText,
      workspace: (slack) => {
        for (const [id, name] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) slack.addUser({ id, name });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice, bob, carol] });
      },
    });
    await t.simulator.command(alice, 'C0GENERAL', '/incident', 'Checkout failing service=payments');
    await t.idle();
    const [row] = await t.database.handle.db.select().from(incidents);
    channel = row!.channelId!;
    incidentId = row!.id;
  };
  afterEach(() => t.stop());

  const command = async (text: string, user = alice) => {
    await t.simulator.command(user, channel, '/incident', text);
    await t.idle();
    return t.slack.ephemeralsFor(user).at(-1)?.text ?? '';
  };
  const summary = (): FakeMessage => t.slack.messagesIn(channel).find((message) => message.pinned)!;
  const summaryText = () => JSON.stringify(summary().blocks);
  const events = () =>
    t.database.handle.db.select().from(incidentEvents).where(eq(incidentEvents.incidentId, incidentId)).orderBy(asc(incidentEvents.id));

  describe('with the default roles', () => {
    beforeEach(() => start());

    it('assigns comms and scribe, on the timeline, in the channel, the announcement and the pinned summary', async () => {
      expect(summaryText()).toContain('comms: _unassigned_ · scribe: _unassigned_');
      await command(`role comms <@${bob}|bob>`);
      expect(t.slack.messagesIn(channel).at(-1)!.text).toBe(`🎭 *INC-1*: <@${alice}> made <@${bob}> *comms*`);
      expect(t.slack.messagesIn('C0INCIDENTS').at(-1)!.text).toContain(`<@${bob}> is comms`);
      expect(summaryText()).toContain(`comms: <@${bob}> · scribe: _unassigned_`);
      expect(t.slack.channels.get(channel)!.members.has(bob)).toBe(true);

      await command(`role comms <@${carol}>`);
      expect(t.slack.messagesIn(channel).at(-1)!.text).toBe(`🎭 *INC-1*: <@${alice}> made <@${carol}> *comms* (was <@${bob}>)`);
      await command('role Scribe me', bob);
      expect(summaryText()).toContain(`comms: <@${carol}> · scribe: <@${bob}>`);

      expect((await events()).filter((event) => event.kind === 'role').map((event) => [event.actor, event.text])).toEqual([
        [alice, `Role comms unassigned → ${bob}`],
        [alice, `Role comms ${bob} → ${carol}`],
        [bob, `Role scribe unassigned → ${bob}`],
      ]);
      expect(await t.database.handle.db.select().from(incidentRoles)).toHaveLength(2);

      const token = await t.token('read');
      const answer = await t.api('GET', `/incidents/${incidentId}`, { token });
      expect(answer.status).toBe(200);
      expect(answer.body.roles).toEqual({ commander: null, comms: carol, scribe: bob });
    });

    it('treats `role commander` as the commander command', async () => {
      await command(`role commander <@${bob}>`);
      expect((await t.database.handle.db.select().from(incidents))[0]!.commander).toBe(bob);
      expect(t.slack.messagesIn(channel).at(-1)!.text).toBe(`🧭 *INC-1*: <@${alice}> made <@${bob}> incident commander`);
      const token = await t.token('read');
      expect((await t.api('GET', `/incidents/${incidentId}`, { token })).body.roles).toEqual({ commander: bob, comms: null, scribe: null });
    });

    it('refuses an unknown role, naming the roles there are, and a role without a person', async () => {
      const posted = t.slack.messagesIn(channel).length;
      expect(await command(`role lead <@${bob}>`)).toBe('`lead` is not an incident role. The roles are `commander`, `comms`, `scribe`.');
      expect(await command('role comms bob')).toContain('`/incident role` takes a role and one person');
      expect(await command(`role comms <@${bob}> <@${carol}>`)).toContain('`/incident role` takes a role and one person');
      expect(await command(`role comms <@${t.slack.botUserId}>`)).toBe('Tandem keeps the timeline, but a person has to be comms.');
      await command(`role comms <@${bob}>`);
      expect(await command(`role comms <@${bob}>`)).toBe(`<@${bob}> is already comms of INC-1.`);
      expect(t.slack.messagesIn(channel)).toHaveLength(posted + 1);
      expect((await events()).filter((event) => event.kind === 'role')).toHaveLength(1);
    });

    it('refuses roles on a resolved incident and outside an incident channel', async () => {
      await command('resolve');
      expect(await command(`role comms <@${bob}>`)).toContain('INC-1 is already resolved');
      await t.simulator.command(alice, 'C0GENERAL', '/incident', `role comms <@${bob}>`);
      await t.idle();
      expect(t.slack.ephemeralsFor(alice).at(-1)!.text).toContain('`/incident role` works inside an incident channel');
      expect(await t.database.handle.db.select().from(incidentRoles)).toHaveLength(0);
    });
  });

  it('takes its roles from the catalog', async () => {
    await start(`${catalog}incidents:\n  roles: [liaison, ops-lead]\n`);
    expect(summaryText()).toContain('liaison: _unassigned_ · ops-lead: _unassigned_');
    expect(await command(`role comms <@${bob}>`)).toBe('`comms` is not an incident role. The roles are `commander`, `liaison`, `ops-lead`.');
    await command(`role ops-lead <@${bob}>`);
    expect(summaryText()).toContain(`ops-lead: <@${bob}>`);
  });
});
