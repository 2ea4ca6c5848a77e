import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { changes, incidentPostmortems, incidents, problems, sprintFeatures } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER]
    approvers: { groups: [leads], quorum: 1 }
    channels: { incidents: C0PAYINC, approvals: C0APPROVALS, customers: [C0ACME] }
groups:
  leads: [U0ANN]
`;
const owner = 'U0OWNER';
const alice = 'U0ALICE';
const bob = 'U0BOB';

/** Operations feed development: recent changes at declaration, follow-ups in the sprint, the postmortem draft. */
describe('incident delivery', () => {
  let t: Harness;

  beforeEach(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: alice, name: 'alice' });
        slack.addUser({ id: bob, name: 'bob' });
        slack.addUser({ id: 'U0DEV', name: 'dev' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: [alice, bob] });
      },
    });
  });
  afterEach(() => t.stop());

  const db = () => t.database.handle.db;
  const lastEphemeral = (user: string) => t.slack.ephemeralsFor(user).at(-1)!;
  async function declare(text: string, user = alice) {
    await t.simulator.command(user, 'C0GENERAL', '/incident', text);
    await t.idle();
    const rows = await db().select().from(incidents);
    return rows.sort((a, b) => b.number - a.number)[0]!;
  }
  async function incidentCommand(channel: string, text: string, user = alice) {
    await t.simulator.command(user, channel, '/incident', text);
    await t.idle();
    return lastEphemeral(user);
  }
  async function sprintCommand(text: string) {
    await t.simulator.command(owner, 'C0PAYINC', '/sprint', text);
    await t.idle();
    return t.slack.ephemeralsFor(owner).at(-1)?.text ?? '';
  }
  async function approvedChange(title: string) {
    const token = await t.token('changes:write');
    const requested = await t.api('POST', '/changes', {
      token,
      body: { service: 'payments', title, type: 'normal', environment: 'production', requested_by: 'U0DEV' },
    });
    await t.idle();
    const approval = t.slack.messagesIn('C0APPROVALS').find((message) => message.text.startsWith(`${requested.body.key} `))!;
    await t.simulator.click('U0ANN', { message: approval }, 'change.approve');
    await t.idle();
    return requested.body as { id: string; key: string };
  }

  describe('recent changes at declaration', () => {
    it('lists the service changes of the last 24 h with Link as cause, which links the change and marks it failed', async () => {
      const change = await approvedChange('Deploy v4.0.0');
      const incident = await declare('Checkout errors service=payments');
      const listed = t.slack.messagesIn(incident.channelId!).filter((message) => message.text.includes('in the last 24 h'));
      expect(listed).toHaveLength(1);
      expect(JSON.stringify(listed[0]!.blocks)).toContain(`${change.key}*`);
      expect(JSON.stringify(listed[0]!.blocks)).toContain('Link as cause');

      await t.simulator.click(bob, { message: listed[0]! }, 'incident.link_as_cause');
      await t.idle();
      const [linked] = await db().select().from(incidents).where(eq(incidents.id, incident.id));
      expect(linked!.causedByChangeId).toBe(change.id);
      const [row] = await db().select().from(changes).where(eq(changes.id, change.id));
      expect(row!.status).toBe('failed');

      // A second click on the same button is answered politely and changes nothing.
      await t.simulator.click(bob, { message: listed[0]! }, 'incident.link_as_cause');
      await t.idle();
      expect(lastEphemeral(bob).text).toContain('already linked');
    });

    it('says in one line that nothing changed, and posts it once even when the set-up runs again', async () => {
      // Pinning fails for good, so the declarer gets Try again, which runs every step once more.
      t.slack.failNext('pins.add', { error: 'missing_scope', extra: { needed: 'pins:write', provided: 'chat:write' } });
      const incident = await declare('Checkout errors service=payments');
      await t.simulator.click(alice, { ephemeral: lastEphemeral(alice) }, 'incident.retry_setup');
      await t.idle();
      expect(t.slack.messagesIn(incident.channelId!).filter((message) => message.pinned)).toHaveLength(1);
      const lines = t.slack.messagesIn(incident.channelId!).filter((message) => message.text.includes('in the last 24 h'));
      expect(lines.map((line) => line.text)).toEqual(['No changes or deployments of payments in the last 24 h.']);
      expect(lines[0]!.blocks ?? []).toHaveLength(0);
    });

    it('lists deployments too, at most ten with the rest counted, and links a deployment without a change', async () => {
      const token = await t.token('deployments:write');
      for (let index = 0; index < 12; index += 1) {
        const answer = await t.api('POST', '/deployments', { token, body: { service: 'payments', environment: 'staging', status: 'success', commit_sha: `abcdef0${index.toString(16)}` } });
        expect(answer.status).toBe(201);
        t.clock.advance(60_000);
      }
      const incident = await declare('Checkout errors service=payments');
      const [listed] = t.slack.messagesIn(incident.channelId!).filter((message) => message.text.includes('in the last 24 h'));
      const blocks = JSON.stringify(listed!.blocks);
      expect(blocks.match(/Link as cause/g)).toHaveLength(10);
      expect(blocks).toContain('and 2 more deployments');
      expect(listed!.blocks!.length).toBeLessThanOrEqual(50);
      await t.simulator.click(bob, { message: listed! }, 'incident.link_as_cause');
      await t.idle();
      const [linked] = await db().select().from(incidents).where(eq(incidents.id, incident.id));
      expect(linked!.causedByDeploymentId).not.toBeNull();
      expect(t.slack.messagesIn(incident.channelId!).at(-1)!.text).toContain('linked the cause: Caused by the staging deployment');
    });

    it('stays in a private incident channel', async () => {
      await approvedChange('Deploy v4.0.0');
      const incident = await declare('Quiet failure service=payments --private');
      expect(t.slack.messagesIn(incident.channelId!).filter((message) => message.text.includes('in the last 24 h'))).toHaveLength(1);
      for (const channel of ['C0PAYINC', 'C0ACME']) {
        expect(t.slack.messagesIn(channel).some((message) => message.text.includes('in the last 24 h'))).toBe(false);
      }
    });

    it('leaves out changes older than 24 hours', async () => {
      await approvedChange('Deploy v3.9.0');
      t.clock.advance(25 * 3_600_000);
      const incident = await declare('Checkout errors service=payments');
      const lines = t.slack.messagesIn(incident.channelId!).filter((message) => message.text.includes('in the last 24 h'));
      expect(lines[0]!.text).toBe('No changes or deployments of payments in the last 24 h.');
    });
  });

  describe('follow-ups', () => {
    it('records a follow-up with an owner in the current sprint as an internal PRB feature', async () => {
      await sprintCommand('start Sprint 42 2026-11-16 2026-11-29');
      const incident = await declare('Card declines service=payments');
      const answer = await incidentCommand(incident.channelId!, `followup Add retries to the card client <@${bob}|bob>`);
      expect(answer.text).toMatch(/Created \*PRB-\d+\*.*owned by <@U0BOB>.*the current sprint, Sprint 42/);
      const [problem] = await db().select().from(problems);
      expect(problem).toMatchObject({ owner: bob, state: 'open', title: 'Add retries to the card client' });
      const [feature] = await db().select().from(sprintFeatures).where(eq(sprintFeatures.id, problem!.featureId!));
      expect(feature).toMatchObject({ key: `PRB-${problem!.number}`, customerVisible: false, status: 'planned', title: 'Add retries to the card client' });

      const detail = await t.api('GET', `/incidents/${incident.id}`, { token: await t.token('read') });
      expect(detail.body.follow_ups).toEqual([{ key: `PRB-${problem!.number}`, title: 'Add retries to the card client', owner: bob, state: 'open' }]);
    });

    it('records one without an owner in the next sprint when none is running', async () => {
      await sprintCommand('start Sprint 43 2026-11-30 2026-12-11');
      const incident = await declare('Card declines service=payments');
      const answer = await incidentCommand(incident.channelId!, 'followup Alert on decline rate');
      expect(answer.text).toContain('the next sprint, Sprint 43');
      const [problem] = await db().select().from(problems);
      expect(problem!.owner).toBeNull();
      expect(problem!.featureId).not.toBeNull();
    });

    it('says so when the service has no sprint, and attaches the follow-up once a sprint starts', async () => {
      const incident = await declare('Card declines service=payments');
      const answer = await incidentCommand(incident.channelId!, 'followup Alert on decline rate');
      expect(answer.text).toContain('payments has no current or coming sprint');
      expect((await db().select().from(problems))[0]!.featureId).toBeNull();
      await sprintCommand('start Sprint 42 2026-11-16 2026-11-29');
      await t.tandem.scheduler.run('incident-follow-ups');
      const [problem] = await db().select().from(problems);
      expect(problem!.featureId).not.toBeNull();
    });

    it('refuses a bad owner, two owners, and the command outside an incident channel', async () => {
      const incident = await declare('Card declines service=payments');
      expect((await incidentCommand(incident.channelId!, 'followup Retry @nobody')).text).toContain('@nobody is not a person');
      expect((await incidentCommand(incident.channelId!, `followup Retry <@${bob}> <@${alice}>`)).text).toContain('one owner');
      expect((await incidentCommand(incident.channelId!, 'followup Retry <@U0GHOST>')).text).toContain('cannot own a follow-up');
      expect((await incidentCommand('C0GENERAL', 'followup Retry')).text).toContain('works inside an incident channel');
      expect(await db().select().from(problems)).toHaveLength(0);
    });

    it('closes the follow-up when its sprint feature is done, and tells the channel once, also on redelivery', async () => {
      await sprintCommand('start Sprint 42 2026-11-16 2026-11-29');
      const incident = await declare('Card declines service=payments');
      await incidentCommand(incident.channelId!, `followup Add retries <@${bob}>`);
      const [problem] = await db().select().from(problems);
      const key = `PRB-${problem!.number}`;
      await sprintCommand(`status ${key} done`);
      // The schedule finds nothing left to do, however often it runs.
      await t.tandem.scheduler.run('incident-follow-ups');
      await t.tandem.scheduler.run('incident-follow-ups');
      await t.idle();
      const [done] = await db().select().from(problems);
      expect(done!.state).toBe('done');
      const told = t.slack.messagesIn(incident.channelId!).filter((message) => message.text.includes(`${key}*`) && message.text.includes('is done'));
      expect(told).toHaveLength(1);
      // Nothing of it reaches the service's incidents channel or its customers.
      expect(t.slack.messagesIn('C0ACME').some((message) => message.text.includes(key))).toBe(false);
    });

    it('closes it when the tracker marks the feature done through PUT /sprints', async () => {
      const token = await t.token('sprints:write');
      const put = (features: unknown[]) =>
        t.api('PUT', '/sprints/PAY-42', { token, body: { name: 'Sprint 42', service: 'payments', starts_on: '2026-11-16', ends_on: '2026-11-29', features } });
      expect((await put([])).status).toBe(200);
      const incident = await declare('Card declines service=payments');
      await incidentCommand(incident.channelId!, 'followup Add retries');
      const [problem] = await db().select().from(problems);
      const key = `PRB-${problem!.number}`;
      // The tracker's list without the follow-up does not drop it.
      await put([]);
      expect((await db().select().from(sprintFeatures))[0]!.status).toBe('planned');
      await put([{ key, title: 'Add retries', status: 'done', customer_visible: false }]);
      await t.idle();
      expect((await db().select().from(problems))[0]!.state).toBe('done');
    });

    it("lists follow-ups with their state and marks one won't do from the channel; a stale click changes nothing", async () => {
      const incident = await declare('Card declines service=payments');
      await incidentCommand(incident.channelId!, 'followup Add retries');
      const list = await incidentCommand(incident.channelId!, 'followups');
      const stale = structuredClone(list);
      expect(list.text).toContain('Add retries · _no owner_ · open');
      await t.simulator.click(alice, { ephemeral: list }, 'incident.follow_up_wont_do');
      await t.idle();
      expect((await db().select().from(problems))[0]!.state).toBe('wont-do');
      expect(lastEphemeral(alice).text).toContain("Add retries · _no owner_ · won't do");
      await t.simulator.click(alice, { ephemeral: stale }, 'incident.follow_up_wont_do');
      await t.idle();
      expect(lastEphemeral(alice).text).toContain("already won't do");
    });

    it('titles the feature of a private incident by the follow-up alone', async () => {
      await sprintCommand('start Sprint 42 2026-11-16 2026-11-29');
      const incident = await declare('Secret acquisition leak --private');
      await t.database.handle.db.update(incidents).set({ service: 'payments' }).where(eq(incidents.id, incident.id));
      await incidentCommand(incident.channelId!, 'followup Rotate the keys');
      const [feature] = await db().select().from(sprintFeatures);
      expect(feature).toMatchObject({ title: 'Rotate the keys', customerVisible: false });
      const shown = await sprintCommand('show');
      expect(shown).not.toContain('acquisition');
    });
  });

  describe('postmortem draft', () => {
    it('is uploaded to the channel on resolve through the external upload flow, and the API answers it as Markdown', async () => {
      const incident = await declare('Checkout errors service=payments');
      await incidentCommand(incident.channelId!, `followup Add retries <@${bob}>`);
      t.clock.advance(42 * 60_000);
      await incidentCommand(incident.channelId!, 'resolve Rolled back v4');
      const shared = t.slack.messagesIn(incident.channelId!).filter((message) => message.files?.length);
      expect(shared).toHaveLength(1);
      const file = t.slack.uploads.get(shared[0]!.files![0]!.id)!;
      const markdown = file.bytes!.toString('utf8');
      const key = `INC-${incident.number}`;
      expect(markdown).toContain(`# Postmortem draft: ${key} Checkout errors`);
      expect(markdown).toContain('## Summary\n\nRolled back v4');
      expect(markdown).toContain('- Time to restore: 42m (2520 s)');
      expect(markdown).toMatch(/## Timeline\n\n- 2026-11-23T09:00:00Z · U0ALICE · Declared SEV\d: Checkout errors/);
      expect(markdown).toContain('## Linked changes and deployments\n\n_None linked._');
      expect(markdown).toMatch(/## Follow-ups\n\n- PRB-\d+ Add retries · U0BOB · open/);
      expect(markdown.endsWith('## Causes\n\n\n## Lessons\n\n')).toBe(true);

      const api = await fetch(`${t.baseUrl}/api/v1/incidents/${incident.id}/postmortem`, { headers: { authorization: `Bearer ${await t.token('read')}` } });
      expect(api.status).toBe(200);
      expect(api.headers.get('content-type')).toContain('text/markdown');
      expect(await api.text()).toContain(`# Postmortem draft: ${key}`);
    });

    it('retries after a 5xx from the upload URL without a second file', async () => {
      const incident = await declare('Checkout errors service=payments');
      t.slack.failNext('upload', { httpStatus: 503 });
      await incidentCommand(incident.channelId!, 'resolve Rolled back');
      expect(t.slack.messagesIn(incident.channelId!).filter((message) => message.files?.length)).toHaveLength(0);
      const [pending] = await db().select().from(incidentPostmortems);
      expect(pending).toMatchObject({ state: 'pending', uploaded: false, lastError: 'upload_http_503' });
      t.clock.advance(60_000);
      await t.tandem.scheduler.run('incident-postmortems');
      await t.tandem.scheduler.run('incident-postmortems');
      const files = t.slack.messagesIn(incident.channelId!).filter((message) => message.files?.length);
      expect(files).toHaveLength(1);
      expect(files[0]!.files![0]!.id).toBe(pending!.fileId);
      expect(t.slack.uploads.size).toBe(1);
    });

    it.skipIf(!inject('postgres'))('is uploaded once with two instances retrying it, and the follow-up closes once', async () => {
      await sprintCommand('start Sprint 42 2026-11-16 2026-11-29');
      const second = await startHarness({ alongside: t });
      try {
        const incident = await declare('Checkout errors service=payments');
        await incidentCommand(incident.channelId!, 'followup Add retries');
        t.slack.failNext('upload', { httpStatus: 502 });
        await incidentCommand(incident.channelId!, 'resolve Rolled back');
        t.clock.advance(10 * 60_000);
        const runs = [t, second, t, second].map((instance) => instance.tandem.scheduler.run('incident-postmortems'));
        await Promise.all(runs);
        await Promise.all([t.idle(), second.idle()]);
        expect(t.slack.messagesIn(incident.channelId!).filter((message) => message.files?.length)).toHaveLength(1);

        const [problem] = await db().select().from(problems);
        await sprintCommand(`status PRB-${problem!.number} done`);
        await Promise.all([t, second, t, second].map((instance) => instance.tandem.scheduler.run('incident-follow-ups')));
        await Promise.all([t.idle(), second.idle()]);
        const told = t.slack.messagesIn(incident.channelId!).filter((message) => message.text.includes(`PRB-${problem!.number}*`) && message.text.includes('is done'));
        expect(told).toHaveLength(1);
      } finally {
        await second.stop();
      }
    });

    it('answers a private incident only to tokens with incidents:private', async () => {
      const incident = await declare('Secret leak --private');
      const path = `${t.baseUrl}/api/v1/incidents/${incident.id}/postmortem`;
      const without = await fetch(path, { headers: { authorization: `Bearer ${await t.token('read')}` } });
      expect(without.status).toBe(404);
      expect(await without.text()).not.toContain('Secret');
      const withScope = await fetch(path, { headers: { authorization: `Bearer ${await t.token('read', 'incidents:private')}` } });
      expect(withScope.status).toBe(200);
      expect(await withScope.text()).toContain('Secret leak');
    });
  });
});
