import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IncidentRow, incidents } from '../src/db/schema';
import { improvementReport } from '../src/metrics/blocks';
import type { DeliveryKpis } from '../src/metrics/service';
import type { FakeMessage } from '../src/fake-slack';
import { FakeGitHub, signedWebhook, startFakeGitHub } from '../src/fake-github';
import { appId, privateKey, webhookSecret } from './github/support';
import { type Harness, startHarness } from './support/harness';

/**
 * Private stays private: with a private incident and an internal sprint feature in
 * the data, everything Tandem shows someone outside both (a customer in a Slack
 * Connect channel, on no service's team) is collected surface by surface, and none
 * of it may name them. A new surface is one more row in `surfaces`.
 */

const catalog = `
services:
  payments:
    owners: [U0OWNER]
    approvers: { groups: [leads] }
    channels: { incidents: C0ANNOUNCE, approvals: C0APPROVALS, customers: [C0ACME] }
    default_severity: 2
    github: { repositories: [acme/payments-api] }
groups:
  leads: [U0LEAD]
report: { channel: C0DELIVERY, cron: "0 9 * * 1", timezone: UTC }
cab: { channel: C0CAB, cron: "0 10 * * 2", timezone: UTC }
`;
const owner = 'U0OWNER';
const lead = 'U0LEAD';
const outsider = 'U0CUSTOMER';

const secretTitle = 'SECRET-OUTAGE-TITLE';
const secretUpdate = 'SECRET-UPDATE-TEXT';
const secretFeature = 'SECRET-INTERNAL-FEATURE';
/** A follow-up of the private incident: it enters the sprint as an internal PRB feature. */
const secretFollowUp = 'SECRET-FOLLOW-UP';

describe('private stays private: what an outsider sees', () => {
  let t: Harness;
  let secret: IncidentRow;
  let customerAsk: FakeMessage;
  let openAsk: FakeMessage;
  let publicChannel: string;
  let readToken: string;
  let github: FakeGitHub;
  let closeGitHub: () => Promise<void>;
  let gatedRun: number;

  const run = async (user: string, channel: string, command: string, text: string) => {
    await t.simulator.command(user, channel, command, text);
    await t.idle();
  };

  beforeAll(async () => {
    github = new FakeGitHub({ appId, privateKey });
    const fake = await startFakeGitHub(github);
    closeGitHub = fake.close;
    github.addRepository('acme/payments-api');
    t = await startHarness({
      catalog,
      config: { github: { appId, privateKey, webhookSecret, apiUrl: fake.apiUrl } },
      workspace: (slack) => {
        slack.addUser({ id: outsider, name: 'tara-at-acme' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general' });
        slack.addChannel({ id: 'C0CAB', name: 'cab' });
        slack.channels.get('C0ACME')!.members.add(outsider);
      },
    });
    await t.idle();
    readToken = await t.token('read');

    // A sprint with a customer-visible and an internal feature, digested to the customer channel.
    await run(owner, 'C0ANNOUNCE', '/sprint', 'start Sprint 42 2026-11-23 2026-12-04');
    await run(owner, 'C0ANNOUNCE', '/sprint', 'add Export invoices as PDF');
    await run(owner, 'C0ANNOUNCE', '/sprint', `add internal ${secretFeature}`);
    await run(owner, 'C0ANNOUNCE', '/sprint', 'subscribe <#C0ACME|acme>');
    await run(owner, 'C0ANNOUNCE', '/sprint', 'post');
    // The customer asks; the team links the ask to the internal feature, which ships.
    customerAsk = t.slack.post('C0ACME', { text: 'Refunds show twice on our statement', user: outsider });
    await t.simulator.shortcut(outsider, customerAsk, 'sprint.track_request');
    await t.idle();
    await run(owner, 'C0ANNOUNCE', '/sprint', 'link R-1 F-2');
    await run(owner, 'C0ANNOUNCE', '/sprint', 'status F-2 in-dev');
    await run(owner, 'C0ANNOUNCE', '/sprint', 'status F-2 done');
    // A second ask, tracked and not yet linked.
    openAsk = t.slack.post('C0ACME', { text: 'Statements in CSV, please', user: outsider });
    await t.simulator.shortcut(outsider, openAsk, 'sprint.track_request');
    await t.idle();

    // A change, approved and deployed.
    await run(owner, 'C0ANNOUNCE', '/change', 'payments Rotate signing keys');
    const approval = t.slack.messagesIn('C0APPROVALS').find((message) => message.text.includes('CHG-1'))!;
    await t.simulator.click(lead, { message: approval }, 'change.approve');
    await t.idle();
    const deployer = await t.token('deployments:write');
    const deployed = await t.api('POST', '/deployments', {
      token: deployer,
      body: { service: 'payments', environment: 'production', status: 'success', change_id: 'CHG-1' },
    });
    expect(deployed.status).toBe(201);

    // A GitHub run gated by Tandem (CHG-2), approved in Slack; what the run shows is public on a public repository.
    const gated = github.addRun('acme/payments-api', { waiting: ['production'] });
    gatedRun = gated.id;
    const webhook = await signedWebhook(webhookSecret, 'deployment_protection_rule', github.protectionRuleRequested('acme/payments-api', gated, 'production', fake.apiUrl));
    expect((await fetch(`${t.baseUrl}/github/webhooks`, { method: 'POST', headers: webhook.headers, body: webhook.body })).status).toBe(202);
    await t.idle();
    const gateApproval = t.slack.messagesIn('C0APPROVALS').find((message) => message.text.includes('CHG-2'))!;
    await t.simulator.click(lead, { message: gateApproval }, 'change.approve');
    await t.idle();
    expect(github.decisions(gated.id).map((call) => call.body.state)).toEqual(['approved']);

    // A public incident, announced and resolved; then a private one, caused by the change, still open.
    const incidentTitled = async (title: string) => (await t.database.handle.db.select().from(incidents).where(eq(incidents.title, title)))[0]!;
    await run(owner, 'C0GENERAL', '/incident', 'Checkout is slow service=payments');
    publicChannel = (await incidentTitled('Checkout is slow')).channelId!;
    await run(owner, publicChannel, '/incident', 'resolve Cache warmed up');
    await run(owner, 'C0GENERAL', '/incident', `${secretTitle} service=payments --private`);
    const secretChannel = (await incidentTitled(secretTitle)).channelId!;
    for (const text of ['link CHG-1', `commander <@${lead}>`, `update ${secretUpdate}`, 'sev 1', `followup ${secretFollowUp}`]) await run(owner, secretChannel, '/incident', text);
    // The private channel's conversation, one message of it on the timeline.
    const { message: pinned } = await t.simulator.say(owner, secretChannel, `${secretUpdate} seen in the logs`);
    await t.simulator.pin(owner, pinned);
    await t.idle();
    secret = await incidentTitled(secretTitle);
    expect(secret).toMatchObject({ private: true, commander: lead, severity: 1, channelId: expect.stringMatching(/^G/) });
    // A planned change while the private SEV1 is open: it conflicts with it, on the approval message, the calendar, the CAB agenda and the API.
    const requester = await t.token('changes:write');
    const planned = await t.api('POST', '/changes', {
      token: requester,
      body: { service: 'payments', title: 'Resize the ledger pool', type: 'normal', environment: 'production', planned_start: '2026-11-25T14:00:00Z', planned_end: '2026-11-25T15:00:00Z' },
    });
    expect(planned.body.conflicts).toEqual([{ kind: 'incident', message: 'an open SEV1 private incident on payments' }]);

    // Monday: the scheduled digest and the continual-improvement report of the week.
    t.clock.set('2026-11-30T09:30:00Z');
    await t.tandem.scheduler.run('sprint-digests');
    await t.tandem.scheduler.run('improvement-report');
    // The private incident's reminders, and the public incident's channel archived a week after it was resolved.
    await t.tandem.scheduler.run('incident-reminders');
    await t.tandem.scheduler.run('incident-archive');
    await t.tandem.scheduler.run('cab-agenda');
    await t.idle();
  });
  afterAll(async () => {
    await t.stop();
    await closeGitHub();
  });

  const messagesOf = (channel: string) => JSON.stringify(t.slack.messagesIn(channel));
  /** The whole answer to a monitoring dashboard's `read` token, which lacks `incidents:private` (JSON or not). */
  const api = async (path: string) => {
    const answer = await fetch(`${t.baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${readToken}` } });
    return `${answer.status} ${await answer.text()}`;
  };
  /** Everything a command shows the outsider: ephemeral answers, in-channel answers, modals it opens. */
  const command = async (command: string, text: string, channel = 'C0ACME') => {
    const seen = { ephemerals: t.slack.ephemerals.length, messages: t.slack.messages.length, calls: t.slack.calls.length };
    await run(outsider, channel, command, text);
    return JSON.stringify([
      t.slack.ephemerals.slice(seen.ephemerals).filter((message) => message.user === outsider),
      t.slack.messages.slice(seen.messages).filter((message) => message.channel === channel),
      t.slack.calls.slice(seen.calls).filter((call) => call.method === 'views.open'),
    ]);
  };

  const surfaces: Array<{ surface: string; show: () => Promise<string>; asksByKey?: boolean }> = [
    {
      surface: 'App Home',
      show: async () => {
        await t.simulator.event({ type: 'app_home_opened', user: outsider, channel: 'D0HOME', tab: 'home' });
        await t.idle();
        return JSON.stringify(t.slack.homes.get(outsider));
      },
    },
    { surface: 'announcement channel', show: async () => messagesOf('C0ANNOUNCE') },
    { surface: 'customer channel: digests, incident notices, request threads', show: async () => messagesOf('C0ACME') },
    { surface: 'approvals channel', show: async () => messagesOf('C0APPROVALS') },
    { surface: 'a public incident’s channel', show: async () => messagesOf(publicChannel) },
    { surface: 'improvement report and its chart', show: async () => messagesOf('C0DELIVERY') },
    { surface: 'the outsider’s DMs', show: async () => messagesOf(t.slack.imWith(outsider).id) },
    { surface: '/incident help', show: () => command('/incident', 'help') },
    { surface: '/incident sev 1 outside an incident channel', show: () => command('/incident', 'sev 1') },
    { surface: '/incident update outside an incident channel', show: () => command('/incident', 'update All good?') },
    { surface: '/incident role outside an incident channel', show: () => command('/incident', `role comms <@${outsider}>`) },
    { surface: '/incident (the declaration form)', show: () => command('/incident', '') },
    { surface: '/incident followup outside an incident channel', show: () => command('/incident', 'followup Anything?') },
    { surface: '/incident followups outside an incident channel', show: () => command('/incident', 'followups') },
    { surface: '/incident timeline outside an incident channel', show: () => command('/incident', 'timeline') },
    { surface: '/incident timeline 2 outside an incident channel', show: () => command('/incident', 'timeline 2') },
    { surface: '/incident catchup outside an incident channel', show: () => command('/incident', 'catchup') },
    {
      surface: 'Older on a private timeline, clicked from another channel',
      show: async () => {
        const seen = t.slack.ephemerals.length;
        // A forged click: the private incident's page button, as if it were in the customer channel.
        const forged = { channel: 'C0ACME', user: outsider, ts: t.slack.nextTs(), text: '', blocks: [
          { type: 'actions', block_id: 'timeline_pages', elements: [{ type: 'button', action_id: 'incident.timeline_older', text: { type: 'plain_text', text: 'Older' }, value: `${secret.id}:2` }] },
        ] };
        t.slack.ephemerals.push(forged);
        await t.simulator.click(outsider, { ephemeral: forged }, 'incident.timeline_older');
        await t.idle();
        return JSON.stringify(t.slack.ephemerals.slice(seen));
      },
    },
    { surface: '/change list', show: () => command('/change', 'list') },
    { surface: '/change help', show: () => command('/change', 'help') },
    { surface: '/change calendar', show: () => command('/change', 'calendar') },
    { surface: '/change calendar payments', show: () => command('/change', 'calendar payments') },
    { surface: 'the CAB agenda', show: async () => messagesOf('C0CAB') },
    { surface: 'GET /changes', show: () => api('/changes') },
    { surface: 'GET /changes?from=&to= (the planned window)', show: () => api('/changes?service=payments&from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z') },
    { surface: '/change (the request form)', show: () => command('/change', '') },
    { surface: '/sprint show', show: () => command('/sprint', 'show') },
    { surface: '/sprint show service=payments elsewhere', show: () => command('/sprint', 'show service=payments', 'C0GENERAL') },
    { surface: '/sprint link R-2 F-2', show: () => command('/sprint', 'link R-2 F-2') },
    { surface: '/sprint link R-2 F-2 service=payments', show: () => command('/sprint', 'link R-2 F-2 service=payments') },
    { surface: '/sprint link R-1 F-2 (already answered)', show: () => command('/sprint', 'link R-1 F-2') },
    { surface: '/sprint requests', show: () => command('/sprint', 'requests') },
    { surface: '/sprint status F-2 done', show: () => command('/sprint', 'status F-2 done') },
    { surface: '/sprint help', show: () => command('/sprint', 'help') },
    { surface: '/tandem help', show: () => command('/tandem', 'help') },
    { surface: '/tandem kpis', show: () => command('/tandem', 'kpis') },
    { surface: '/tandem kpis payments', show: () => command('/tandem', 'kpis payments') },
    {
      surface: 'the "Track as customer request" form',
      show: async () => {
        const seen = { calls: t.slack.calls.length, ephemerals: t.slack.ephemerals.length };
        // A new request, one waiting for a feature, and one the team linked to the internal feature.
        for (const ask of [t.slack.post('C0ACME', { text: 'Can we get a refund report?', user: outsider }), openAsk, customerAsk]) {
          await t.simulator.shortcut(outsider, ask, 'sprint.track_request');
          await t.idle();
        }
        return JSON.stringify([
          t.slack.calls.slice(seen.calls).filter((call) => call.method === 'views.open'),
          t.slack.ephemerals.slice(seen.ephemerals).filter((message) => message.user === outsider),
        ]);
      },
    },
    // The outsider typed the key; answering that it is not found echoes only their own words.
    { surface: 'GET /incidents/INC-n of the private incident', show: () => api(`/incidents/INC-${secret.number}`), asksByKey: true },
    { surface: 'GET /incidents/:id of the private incident', show: () => api(`/incidents/${secret.id}`) },
    { surface: 'GET /incidents', show: () => api('/incidents') },
    { surface: 'GET /incidents?status=open', show: () => api('/incidents?status=open&service=payments') },
    { surface: 'GET /incidents/:id/postmortem of the private incident', show: () => api(`/incidents/${secret.id}/postmortem`) },
    { surface: 'GET /changes/CHG-1, the change that caused it', show: () => api('/changes/CHG-1') },
    { surface: 'GET /metrics/dora', show: () => api('/metrics/dora') },
    { surface: 'GET /metrics/dora?service=payments', show: () => api('/metrics/dora?service=payments') },
    { surface: 'a gated GitHub run’s status comments and decision', show: async () => JSON.stringify(github.callbacks.filter((call) => call.runId === gatedRun)) },
    {
      surface: 'POST /github/webhooks without a valid signature',
      show: async () => {
        const answer = await fetch(`${t.baseUrl}/github/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-github-event': 'deployment_protection_rule', 'x-github-delivery': 'forged', 'x-hub-signature-256': 'sha256=00' },
          body: JSON.stringify({ action: 'requested' }),
        });
        return `${answer.status} ${await answer.text()}`;
      },
    },
  ];

  const secrets = () => [secretTitle, secretUpdate, secretFeature, secretFollowUp, secret.channelId!, secret.channelName!];

  it('has the secrets in the data, where insiders see them, and counts the private incident without naming it', async () => {
    // Otherwise every row below would pass for want of data.
    await t.simulator.event({ type: 'app_home_opened', user: lead, channel: 'D0HOME', tab: 'home' });
    await t.simulator.command(owner, 'C0ANNOUNCE', '/sprint', 'show');
    await t.idle();
    expect(JSON.stringify(t.slack.homes.get(lead))).toContain(`${secretTitle} · SEV1 · investigating · <#${secret.channelId}>`);
    expect(JSON.stringify(t.slack.ephemeralsFor(owner).slice(-2))).toContain(secretFeature);
    expect(messagesOf(secret.channelId!)).toContain(secretUpdate);
    expect(messagesOf(secret.channelId!)).toContain('has had no update for');
    expect(messagesOf(publicChannel)).toContain('so Tandem archives this channel now');
    expect(messagesOf('C0ANNOUNCE')).toContain('Checkout is slow');
    expect(messagesOf('C0APPROVALS')).toContain('CHG-1 caused a private incident and now counts as failed');
    expect(messagesOf('C0ACME')).toContain('Export invoices as PDF');
    expect(messagesOf('C0CAB')).toContain('Resize the ledger pool');
    expect(messagesOf('C0CAB')).toContain('an open SEV1 private incident on payments');

    expect(await surfaces[0]!.show()).toContain('🔒 1 private incident, shown only to the people in its channel');
    const report = messagesOf('C0DELIVERY');
    expect(report).toContain('🔒 A private incident (SEV1, still open)');
    expect(report).toContain('Checkout is slow');
    const kpis = await t.api('GET', '/metrics/dora?service=payments&from=2026-11-23&to=2026-11-29', { token: readToken });
    expect(kpis.body.incidents_by_severity).toEqual([
      expect.objectContaining({ severity: 1, declared: 1, resolved: 0 }),
      expect.objectContaining({ severity: 2, declared: 1, resolved: 1 }),
    ]);
    const privateToken = await t.token('read', 'incidents:private');
    const listed = await t.api('GET', '/incidents', { token: privateToken });
    expect(JSON.stringify(listed.body)).toContain(secretTitle);
    const one = await t.api('GET', `/incidents/${secret.id}`, { token: privateToken });
    expect(one.body.title).toBe(secretTitle);
    expect(one.body.follow_ups).toEqual([expect.objectContaining({ title: secretFollowUp, state: 'open' })]);
    expect(messagesOf(secret.channelId!)).toContain(secretFollowUp);
    const postmortem = await fetch(`${t.baseUrl}/api/v1/incidents/${secret.id}/postmortem`, { headers: { authorization: `Bearer ${privateToken}` } });
    expect(await postmortem.text()).toContain(secretFollowUp);
  });

  for (const { surface, show, asksByKey } of surfaces) {
    it(`${surface} names neither the private incident nor the internal feature`, async () => {
      const answer = await show();
      const shown = answer.toLowerCase();
      for (const word of secrets()) expect(shown).not.toContain(word.toLowerCase());
      // Its key too (case matters: public channel names begin `inc-2026…`).
      if (!asksByKey) expect(answer).not.toMatch(new RegExp(`\\bINC-${secret.number}\\b`));
    });
  }
});

describe('the improvement report’s view of private incidents', () => {
  const kpis: DeliveryKpis = {
    service: 'payments',
    from: new Date('2026-11-23T00:00:00Z'),
    to: new Date('2026-11-30T00:00:00Z'),
    deploymentFrequency: { perDay: 1, deployments: 7, band: 'high' },
    leadTime: { medianSeconds: 3600, p90Seconds: 7200, changes: 7, band: 'elite' },
    changeFailureRate: { rate: 0, failed: 0, total: 7, band: 'elite' },
    timeToRestore: { medianSeconds: 1800, incidents: 3, band: 'elite' },
    changeSuccessRate: { rate: 1, succeeded: 7, total: 7 },
    deploymentReworkRate: { rate: 0, unplanned: 0, total: 7 },
    incidentsBySeverity: [],
    changeBudget: [],
  };
  const incident = (number: number, isPrivate: boolean): IncidentRow => ({
    id: `00000000-0000-4000-8000-00000000000${number}`,
    number,
    title: isPrivate ? `${secretTitle} ${number}` : `Public outage ${number}`,
    description: null,
    service: 'payments',
    severity: 2,
    status: 'resolved',
    commander: null,
    declaredBy: 'U0OWNER',
    requestKey: null,
    dedupKey: null,
    private: isPrivate,
    channelId: `G0SECRET${number}`,
    channelName: `inc-secret-${number}`,
    summaryTs: null,
    summaryPinned: true,
    swarmSetup: 'done',
    swarmChannelName: `inc-secret-${number}`,
    swarmInvite: [],
    swarmInvited: true,
    swarmAttempts: 1,
    swarmNotBefore: null,
    swarmLockedUntil: null,
    swarmLastError: null,
    declaredAt: new Date('2026-11-24T10:00:00Z'),
    resolvedAt: new Date('2026-11-24T10:30:00Z'),
    resolution: null,
    archivedAt: null,
    causedByChangeId: null,
    causedByDeploymentId: null,
    updatedAt: new Date('2026-11-24T10:30:00Z'),
  });
  const render = (incidents: IncidentRow[]) =>
    JSON.stringify(improvementReport({ service: 'payments', current: kpis, previous: kpis, failedChanges: [], incidents, budgetChange: undefined }).blocks);

  it('counts private incidents in what to act on, by number only', () => {
    const both = render([incident(1, false), incident(2, true), incident(3, true)]);
    expect(both).toContain('🔥 *INC-1* Public outage 1 (SEV2, restored in 30m)');
    expect(both).toContain('• 🔒 A private incident (SEV2, restored in 30m)');
    expect(both).toContain('*Act* Turn the follow-ups of INC-1 and 2 private incidents into backlog work.');
    expect(render([incident(2, true)])).toContain('*Act* Turn the follow-ups of 1 private incident into backlog work.');
    for (const hidden of [secretTitle, 'INC-2', 'INC-3', 'G0SECRET', 'inc-secret']) expect(both).not.toContain(hidden);
  });
});
