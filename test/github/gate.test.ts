import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changes, deployments, githubCalls, githubDeliveries, githubGates } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { TestClock } from '../support/clock';
import { signedWebhook } from '../../src/fake-github';
import { startHarness } from '../support/harness';
import { appId, type GitHubHarness, privateKey, startGitHubHarness, webhookSecret } from './support';

const catalog = `
services:
  payments:
    approvers: { groups: [leads], quorum: 2 }
    channels: { approvals: C0APPROVALS }
    github:
      repositories: [Acme/Payments-API]
      environments: { Prod: production }
      standard_environments: [staging]
  search:
    approvers: { users: [U0ANN] }
groups:
  leads: [U0ANN, U0BEN, U0CAT]
freeze:
  - { from: "2026-12-20", to: "2027-01-03", services: [payments], reason: Year-end freeze }
`;

const repo = 'acme/payments-api';

/** Finished changes of the two sprints before 2026-11-23: a track record the policy trusts. */
function history(sprint: string, succeeded: number) {
  const at = new Date(`${sprint}T12:00:00Z`);
  return Array.from({ length: succeeded }, (_, index) => ({
    service: 'payments',
    title: `ok ${sprint} ${index}`,
    type: 'normal' as const,
    risk: 'medium' as const,
    environment: 'production',
    requestedBy: 'U0DEV',
    requestedAt: at,
    sprint,
    status: 'deployed' as const,
    deployedAt: at,
    updatedAt: at,
  }));
}

describe('GitHub environments gated by Tandem', () => {
  let t: GitHubHarness;
  beforeEach(async () => {
    t = await startGitHubHarness({
      catalog,
      clock: new TestClock('2026-11-23T09:00:00Z'),
      workspace: (slack) => slack.addUser({ id: 'U0DEV', name: 'dev', email: 'dev@acme.test', realName: 'Dana Dev' }),
    });
    t.github.addRepository('Acme/Payments-API', 77);
    t.github.addRepository('acme/other', 78);
  });
  afterEach(() => t.stopAll());

  const db = () => t.database.handle.db;
  const allChanges = () => db().select().from(changes);
  const approvalMessage = (index = 0): FakeMessage => t.slack.messagesIn('C0APPROVALS').filter((message) => message.text?.includes(`CHG-${index + 1} `))[0]!;
  const click = async (user: string, action: 'change.approve' | 'change.reject', index = 0) => {
    await t.simulator.click(user, { message: approvalMessage(index) }, action);
    await t.idle();
  };
  const requestGate = async (environment = 'Prod', run = t.github.addRun(repo, { waiting: [environment], authorEmail: 'dev@acme.test' }), deliveryId?: string) => {
    const answer = await t.deliver('deployment_protection_rule', t.github.protectionRuleRequested(repo, run, environment, t.apiUrl), { deliveryId });
    await t.idle();
    return { answer, run };
  };

  it('refuses a delivery without a valid signature and changes nothing', async () => {
    const run = t.github.addRun(repo, { waiting: ['Prod'] });
    const payload = t.github.protectionRuleRequested(repo, run, 'Prod', t.apiUrl);
    const forged = await t.deliver('deployment_protection_rule', payload, { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('invalid_signature');
    const unsigned = await fetch(`${t.baseUrl}/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'deployment_protection_rule', 'x-github-delivery': 'x' },
      body: JSON.stringify(payload),
    });
    expect(unsigned.status).toBe(401);
    await t.idle();
    expect(await db().select().from(githubDeliveries)).toEqual([]);
    expect(await allChanges()).toEqual([]);
  });

  it('answers an unmapped repository with 2xx and gates nothing', async () => {
    const run = t.github.addRun('acme/other', { waiting: ['Prod'] });
    const answer = await t.deliver('deployment_protection_rule', t.github.protectionRuleRequested('acme/other', run, 'Prod', t.apiUrl));
    await t.idle();
    expect(answer.status).toBe(202);
    expect(await allChanges()).toEqual([]);
    const [delivery] = await db().select().from(githubDeliveries);
    expect(delivery!.processedAt).not.toBeNull();
    expect(delivery!.lastError).toMatch(/^ignored: acme\/other is not listed/);
    expect(t.github.callbacks).toEqual([]);
  });

  it('opens one normal change per run and environment, however often GitHub delivers it, and shows it waiting', async () => {
    const { answer, run } = await requestGate('Prod', undefined, 'delivery-1');
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: 'accepted' });
    const again = await t.deliver('deployment_protection_rule', t.github.protectionRuleRequested(repo, run, 'Prod', t.apiUrl), { deliveryId: 'delivery-1' });
    expect(again.body).toMatchObject({ status: 'duplicate' });
    // A new delivery of the same request (GitHub asks again) finds the same change.
    await t.deliver('deployment_protection_rule', t.github.protectionRuleRequested(repo, run, 'Prod', t.apiUrl));
    await t.idle();
    const [change, ...others] = await allChanges();
    expect(others).toEqual([]);
    expect(change).toMatchObject({
      service: 'payments',
      type: 'normal',
      environment: 'production',
      status: 'pending',
      title: `Deploy: Ship change ${run.id} (${run.headSha.slice(0, 7)})`,
      ref: 'refs/heads/main',
      commitSha: run.headSha,
      requestedBy: 'U0DEV',
    });
    expect(change!.description).toContain(`https://github.com/Acme/Payments-API/actions/runs/${run.id}`);
    const [gate] = await db().select().from(githubGates);
    expect(gate).toMatchObject({ runId: run.id, environment: 'Prod', installationId: 77, changeId: change!.id });
    expect(t.github.comments(run.id)).toEqual(['CHG-1 waiting for 2 of 2 approvals in Slack']);
    expect(t.github.decisions(run.id)).toEqual([]);
    expect(approvalMessage().text).toContain('CHG-1');
  });

  it('approves the run once the quorum approves in Slack, with a comment naming who', async () => {
    const { run } = await requestGate();
    await click('U0ANN', 'change.approve');
    expect(t.github.comments(run.id).at(-1)).toBe('CHG-1 waiting for 1 of 2 approvals in Slack');
    await click('U0BEN', 'change.approve');
    expect(t.github.decisions(run.id).map((call) => call.body)).toEqual([
      { environment_name: 'Prod', state: 'approved', comment: 'CHG-1 approved in Slack by u0ann and u0ben' },
    ]);
  });

  it('rejects the run when an approver rejects, with the reason', async () => {
    const { run } = await requestGate();
    await click('U0CAT', 'change.reject');
    const [view] = t.slack.openViews('U0CAT');
    await t.simulator.submit('U0CAT', view!.id, { reason: 'No rollback plan' });
    await t.idle();
    expect(t.github.decisions(run.id).map((call) => call.body)).toEqual([
      { environment_name: 'Prod', state: 'rejected', comment: 'CHG-1 rejected in Slack by u0cat: No rollback plan' },
    ]);
  });

  it('approves a standard environment by policy, with the policy\'s explanation', async () => {
    await db().insert(changes).values([...history('2026-11-09', 4), ...history('2026-10-26', 3)]);
    const { run } = await requestGate('staging');
    const change = (await allChanges()).find((candidate) => candidate.environment === 'staging')!;
    expect(change).toMatchObject({ type: 'standard', status: 'approved', decidedBy: ['policy'] });
    const [decision] = t.github.decisions(run.id);
    expect(decision!.body).toMatchObject({ environment_name: 'staging', state: 'approved' });
    expect(change.policy!.summary).toMatch(/^Approved by policy: /);
    expect(decision!.body.comment).toBe(`CHG-${change.number} approved by policy: ${change.policy!.summary.replace('Approved by policy: ', '')}`);
    expect(t.github.comments(run.id)).toEqual([]);
  });

  it('rejects a run in a freeze window', async () => {
    t.clock.set('2026-12-21T09:00:00Z');
    const { run } = await requestGate();
    const [decision] = t.github.decisions(run.id);
    expect(decision!.body).toMatchObject({ environment_name: 'Prod', state: 'rejected' });
    expect(decision!.body.comment).toMatch(/^CHG-1 rejected by policy: Changes to payments are frozen from 2026-12-20 to 2027-01-03 \(Year-end freeze\)/);
  });

  it('retries a callback after 5xx and network errors until GitHub takes it', async () => {
    t.github.failCallbacks({ status: 502 }, { network: true });
    const { run } = await requestGate();
    expect(t.github.comments(run.id)).toEqual([]);
    const [call] = await db().select().from(githubCalls);
    expect(call).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/^502/) });
    t.clock.advance(6_000);
    await t.idle();
    expect((await db().select().from(githubCalls))[0]).toMatchObject({ status: 'pending', attempts: 2 });
    t.clock.advance(11_000);
    await t.idle();
    expect(t.github.comments(run.id)).toEqual(['CHG-1 waiting for 2 of 2 approvals in Slack']);
    expect((await db().select().from(githubCalls))[0]).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('ends a decision that GitHub says was already made (422)', async () => {
    const { run } = await requestGate();
    await click('U0ANN', 'change.approve');
    t.github.failCallbacks({ status: 422 });
    await click('U0BEN', 'change.approve');
    const calls = await db().select().from(githubCalls).where(eq(githubCalls.kind, 'decision'));
    expect(calls).toMatchObject([{ status: 'settled', attempts: 1, lastError: expect.stringMatching(/^422/) }]);
    t.clock.advance(3_600_000);
    await t.idle();
    expect(t.github.callbacks.filter((call) => call.runId === run.id && call.body.state)).toHaveLength(1);
  });

  it('renews the installation token when it expires', async () => {
    t.github.tokenTtlMs = 30 * 60_000;
    const { run } = await requestGate();
    expect(t.github.tokensIssued).toBe(1);
    const second = await requestGate();
    expect(t.github.tokensIssued).toBe(1);
    t.clock.advance(40 * 60_000);
    await click('U0ANN', 'change.approve');
    await click('U0BEN', 'change.approve');
    expect(t.github.tokensIssued).toBe(2);
    expect(t.github.decisions(run.id)).toHaveLength(1);
    expect(t.github.decisions(second.run.id)).toEqual([]);
  });

  it('finds a run whose webhook never arrived, once per period', async () => {
    const run = t.github.addRun(repo, { waiting: ['Prod'], authorEmail: 'dev@acme.test' });
    await t.tandem.scheduler.run('github-reconcile');
    await t.idle();
    const [change] = await allChanges();
    expect(change).toMatchObject({ environment: 'production', commitSha: run.headSha, status: 'pending' });
    expect(t.github.comments(run.id)).toEqual(['CHG-1 waiting for 2 of 2 approvals in Slack']);
    // Its webhook, arriving late, finds the same change.
    await requestGate('Prod', run);
    expect(await allChanges()).toHaveLength(1);
    // The same period is not claimed twice.
    t.github.addRun(repo, { waiting: ['Prod'] });
    await t.tandem.scheduler.run('github-reconcile');
    expect(await allChanges()).toHaveLength(1);
    t.clock.advance(5 * 60_000);
    await t.tandem.scheduler.run('github-reconcile');
    await t.idle();
    expect(await allChanges()).toHaveLength(2);
  });

  it('keeps a delivery whose work failed and finishes it in the reconcile job', async () => {
    t.github.failRequests(/^GET \/repos\/[^/]+\/[^/]+\/actions\/runs\/\d+$/, 503);
    const { answer, run } = await requestGate();
    expect(answer.status).toBe(202);
    expect(await allChanges()).toEqual([]);
    const [delivery] = await db().select().from(githubDeliveries);
    expect(delivery).toMatchObject({ processedAt: null, attempts: 1, lastError: expect.stringMatching(/503/) });
    t.clock.advance(5 * 60_000);
    await t.tandem.scheduler.run('github-reconcile');
    await t.idle();
    expect(await allChanges()).toHaveLength(1);
    expect((await db().select().from(githubDeliveries))[0]).toMatchObject({ attempts: 2, processedAt: expect.any(Date) });
    expect(t.github.comments(run.id)).toEqual(['CHG-1 waiting for 2 of 2 approvals in Slack']);
  });

  it('opens one change when two instances are asked for the same run at once', async () => {
    const other = await startHarness({ alongside: t, config: { github: { appId, privateKey, webhookSecret, apiUrl: t.apiUrl } } });
    try {
      const run = t.github.addRun(repo, { waiting: ['Prod'] });
      const payload = t.github.protectionRuleRequested(repo, run, 'Prod', t.apiUrl);
      const post = async (baseUrl: string) => {
        const { body, headers } = await signedWebhook(webhookSecret, 'deployment_protection_rule', payload);
        return (await fetch(`${baseUrl}/github/webhooks`, { method: 'POST', headers, body })).status;
      };
      expect(await Promise.all([post(t.baseUrl), post(other.baseUrl), post(t.baseUrl), post(other.baseUrl)])).toEqual([202, 202, 202, 202]);
      await Promise.all([t.idle(), other.idle()]);
      await Promise.all([t.idle(), other.idle()]);
      expect(await allChanges()).toHaveLength(1);
      expect(await db().select().from(githubGates)).toHaveLength(1);
      expect(t.github.comments(run.id)).toEqual(['CHG-1 waiting for 2 of 2 approvals in Slack']);
    } finally {
      await other.stop();
    }
  });

  it('records deployment statuses once each, linked to the gated change, and feeds the DORA figures', async () => {
    const { run } = await requestGate();
    await click('U0ANN', 'change.approve');
    await click('U0BEN', 'change.approve');
    const times = { createdAt: '2026-11-23T09:05:00Z', finishedAt: '2026-11-23T09:10:00Z' };
    const success = t.github.deploymentStatus(repo, run, 'Prod', 'success', times, 9001);
    expect((await t.deliver('deployment_status', success)).status).toBe(202);
    await t.deliver('deployment_status', success);
    await t.deliver('deployment_status', t.github.deploymentStatus(repo, run, 'Prod', 'in_progress', times));
    await t.idle();
    const recorded = await db().select().from(deployments);
    const [change] = await allChanges();
    expect(recorded).toMatchObject([
      {
        service: 'payments',
        environment: 'production',
        status: 'success',
        commitSha: run.headSha,
        changeId: change!.id,
        startedAt: new Date(times.createdAt),
        finishedAt: new Date(times.finishedAt),
        committedAt: new Date(run.committedAt),
        url: `https://github.com/Acme/Payments-API/actions/runs/${run.id}`,
      },
    ]);
    expect(change!.status).toBe('deployed');

    const failing = await requestGate();
    await click('U0ANN', 'change.approve', 1);
    await click('U0BEN', 'change.approve', 1);
    await t.deliver('deployment_status', t.github.deploymentStatus(repo, failing.run, 'Prod', 'failure', times));
    await t.idle();
    const second = (await allChanges()).find((candidate) => candidate.number === 2)!;
    expect(second.status).toBe('failed');

    const reader = await t.token('read');
    const dora = await t.api('GET', '/metrics/dora?service=payments&from=2026-11-23&to=2026-11-24', { token: reader });
    expect(dora.status).toBe(200);
    // Frequency counts the successful deployment; the failure rate counts both.
    expect(dora.body.deployment_frequency.deployments).toBe(1);
    expect(dora.body.change_failure_rate).toMatchObject({ failed: 1, total: 2 });
    expect(dora.body.lead_time).toMatchObject({ deployments: 1, median_seconds: (Date.parse(times.finishedAt) - Date.parse(run.committedAt)) / 1000 });
  });
});
