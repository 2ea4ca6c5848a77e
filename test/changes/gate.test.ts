import { eq, sql } from 'drizzle-orm';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DecisionFeed } from '../../src/changes/decisions';
import { type GateRequest, runGate } from '../../src/cli/gate';
import { changes, incidents } from '../../src/db/schema';
import type { FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';
import { runTandem } from '../support/process';

const catalog = `
services:
  payments:
    approvers: { groups: [leads], quorum: 1 }
    channels: { approvals: C0APPROVALS, incidents: C0INCIDENTS }
groups:
  leads: [U0ANN, U0BEN]
freeze:
  - { from: "2026-12-20", to: "2027-01-03" }
`;

describe('REST API: changes, the gate and deployments', () => {
  let t: Harness;
  let pipeline: string;
  let deployer: string;
  let reader: string;
  beforeAll(async () => {
    t = await startHarness({
      catalog,
      workspace: (slack) => {
        slack.addUser({ id: 'U0DEV', name: 'dev', email: 'dev@example.com' });
        slack.addChannel({ id: 'C0GENERAL', name: 'general', members: ['U0DEV', 'U0ANN'] });
      },
    });
    pipeline = await t.token('changes:write');
    deployer = await t.token('deployments:write');
    reader = await t.token('read');
  });
  afterAll(() => t.stop());

  const requestChange = async (body: Record<string, unknown> = {}) => {
    const answer = await t.api('POST', '/changes', {
      token: pipeline,
      body: { service: 'payments', title: 'Deploy v2.3.1', type: 'normal', environment: 'production', ref: 'v2.3.1', commit_sha: 'a1b2c3d4e5', ...body },
    });
    await t.idle();
    return answer;
  };
  const approvalFor = (key: string): FakeMessage => t.slack.messagesIn('C0APPROVALS').find((message) => message.text.startsWith(`${key} `))!;
  const vote = async (key: string, action: 'change.approve' | 'change.reject', user = 'U0ANN') => {
    await t.simulator.click(user, { message: approvalFor(key) }, action);
    await t.idle();
  };

  it('requests a change for a pipeline and resolves requested_by from an e-mail address', async () => {
    const answer = await requestChange({ requested_by: 'dev@example.com' });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      key: 'CHG-1',
      status: 'pending',
      decision: null,
      requested_by: 'U0DEV',
      environment: 'production',
      commit_sha: 'a1b2c3d4e5',
      requested_at: '2026-11-23T09:00:00.000Z',
    });
    expect(t.slack.messagesIn(t.slack.imWith('U0DEV').id).at(-1)!.text).toContain('*CHG-1* Deploy v2.3.1 is waiting for approval.');
    const anonymous = await requestChange({ title: 'Deploy v2.3.2' });
    expect(anonymous.body.requested_by).toMatch(/^api:test-/);
  });

  it('explains every invalid field', async () => {
    const missing = await t.api('POST', '/changes', { token: pipeline, body: { service: 'payments', title: 'x' } });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details).toEqual([
      { field: 'type', message: 'must be standard, normal or emergency' },
      { field: 'environment', message: 'is required (for example production)' },
    ]);
    const semantic = await requestChange({
      service: 'billing',
      type: 'emergency',
      planned_start: '2026-11-24T10:00:00Z',
      planned_end: '2026-11-24T09:00:00Z',
    });
    expect(semantic.status).toBe(422);
    expect(semantic.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['service', 'justification', 'planned_end']);
    const badDate = await requestChange({ planned_start: 'tomorrow' });
    expect(badDate.body.error.details).toEqual([{ field: 'planned_start', message: 'must be an ISO 8601 date-time, such as 2026-11-23T09:00:00Z' }]);
    const nobody = await requestChange({ requested_by: 'ghost@example.com' });
    expect(nobody.body.error).toMatchObject({ code: 'validation_failed', details: [{ field: 'requested_by', message: 'no Slack user ghost@example.com' }] });
  });

  it('long-polls until the change is decided, without waiting out the timeout', async () => {
    const { body: change } = await requestChange({ title: 'Deploy v2.4.0' });
    const started = Date.now();
    const polling = t.api('GET', `/changes/${change.key}?wait=20`, { token: reader });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await vote(change.key, 'change.approve');
    const answer = await polling;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answer.body).toMatchObject({ status: 'approved', decision: { by: 'U0ANN', at: '2026-11-23T09:00:00.000Z', reason: null } });
  });

  it('answers a long-poll with the pending change when the wait is over, and refuses waits over 60 s', async () => {
    const { body: change } = await requestChange({ title: 'Deploy v2.5.0' });
    const started = Date.now();
    const answer = await t.api('GET', `/changes/${change.id}?wait=1`, { token: reader });
    expect(answer.body.status).toBe('pending');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    for (const wait of ['61', 'soon', '-1']) {
      const refused = await t.api('GET', `/changes/${change.id}?wait=${wait}`, { token: reader });
      expect(refused.status).toBe(422);
      expect(refused.body.error.details[0].field).toBe('wait');
    }
  });

  it('returns a policy decision with its explanation', async () => {
    t.clock.set('2026-12-21T09:00:00Z');
    const frozen = await requestChange({ title: 'Deploy in the freeze' });
    t.clock.set('2026-11-23T09:00:00Z');
    expect(frozen.body).toMatchObject({ status: 'rejected', decision: { by: 'policy', policy: { rule: 'freeze_window', outcome: 'rejected' } } });
    const standard = await requestChange({ title: 'Bump dependency', type: 'standard' });
    expect(standard.body).toMatchObject({
      status: 'pending',
      decision: null,
      policy: { rule: 'no_track_record', figures: { budget: 10, used: 0 } },
    });
  });

  it('records deployments: 409 for a change that is not approved, deployed on success, failed on a production failure', async () => {
    const { body: rejected } = await requestChange({ title: 'Risky migration' });
    await vote(rejected.key, 'change.reject');
    const [view] = t.slack.openViews('U0ANN');
    await t.simulator.submit('U0ANN', view!.id, { reason: 'Needs a rollback plan' });
    await t.idle();
    const refused = await t.api('POST', '/deployments', {
      token: deployer,
      body: { service: 'payments', environment: 'production', status: 'success', change_id: rejected.key },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({ code: 'change_not_approved', message: `${rejected.key} was rejected, so it cannot be deployed.` });

    const { body: good } = await requestChange({ title: 'Deploy v3.0.0' });
    await vote(good.key, 'change.approve');
    const deployed = await t.api('POST', '/deployments', {
      token: deployer,
      body: { service: 'payments', environment: 'production', status: 'success', change_id: good.id, url: 'https://ci.example.com/run/7' },
    });
    expect(deployed.status).toBe(201);
    expect(deployed.body.change).toEqual({ id: good.id, key: good.key, status: 'deployed' });
    await t.idle();
    const thread = t.slack.messagesIn('C0APPROVALS').filter((message) => message.threadTs === approvalFor(good.key).ts);
    expect(thread.map((message) => message.text)).toEqual([`🚀 *${good.key}* Deploy v3.0.0 deployed to production. <https://ci.example.com/run/7|details>`]);

    const { body: flaky } = await requestChange({ title: 'Deploy v3.0.1' });
    await vote(flaky.key, 'change.approve');
    const staging = await t.api('POST', '/deployments', { token: deployer, body: { service: 'payments', environment: 'staging', status: 'failure', change_id: flaky.key } });
    expect(staging.body.change.status).toBe('approved');
    const failed = await t.api('POST', '/deployments', { token: deployer, body: { service: 'payments', environment: 'production', status: 'failure', change_id: flaky.key } });
    expect(failed.body.change.status).toBe('failed');
    const answer = await t.api('GET', `/changes/${flaky.key}`, { token: reader });
    expect(answer.body).toMatchObject({ status: 'failed', failure_reason: 'the production deployment failed' });
  });

  it('records deployments without a change, and refuses mismatches', async () => {
    const plain = await t.api('POST', '/deployments', {
      token: deployer,
      body: { service: 'payments', environment: 'production', status: 'success', commit_sha: 'abcdef1', committed_at: '2026-11-22T17:00:00Z' },
    });
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ change_id: null, committed_at: '2026-11-22T17:00:00.000Z', finished_at: '2026-11-23T09:00:00.000Z' });
    expect((await t.api('POST', '/deployments', { token: deployer, body: { service: 'payments', environment: 'production', status: 'done' } })).status).toBe(422);
    expect((await t.api('POST', '/deployments', { token: deployer, body: { service: 'payments', environment: 'production', status: 'success', change_id: 'CHG-999' } })).status).toBe(404);
    expect((await t.api('POST', '/deployments', { token: pipeline, body: { service: 'payments', environment: 'production', status: 'success' } })).status).toBe(403);
  });

  it('marks a change failed when an incident is linked to it, from the API or the incident channel', async () => {
    const { body: cause } = await requestChange({ title: 'Deploy v4.0.0' });
    await vote(cause.key, 'change.approve');
    await t.api('POST', '/deployments', { token: deployer, body: { service: 'payments', environment: 'production', status: 'success', change_id: cause.key } });
    const alerter = await t.token('incidents:write');
    const incident = await t.api('POST', '/incidents', { token: alerter, body: { title: 'Checkout errors after v4', service: 'payments', change_id: cause.key } });
    expect(incident.status).toBe(201);
    expect(incident.body.caused_by_change_id).toBe(cause.id);
    expect((await t.api('GET', `/changes/${cause.key}`, { token: reader })).body).toMatchObject({
      status: 'failed',
      failure_reason: `caused ${incident.body.key}`,
    });

    const { body: second } = await requestChange({ title: 'Deploy v4.0.1' });
    await vote(second.key, 'change.approve');
    await t.idle();
    const [row] = await t.database.handle.db.select().from(incidents).where(eq(incidents.id, incident.body.id));
    await t.simulator.command('U0ANN', row!.channelId!, '/incident', `link ${second.key}`);
    await t.idle();
    expect((await t.api('GET', `/changes/${second.key}`, { token: reader })).body.status).toBe('failed');
    expect(t.slack.messagesIn(row!.channelId!).at(-1)!.text).toContain(`linked the cause, *${second.key}* Deploy v4.0.1`);

    const { body: never } = await requestChange({ title: 'Never approved' });
    await t.simulator.command('U0ANN', row!.channelId!, '/incident', `link ${never.key}`);
    await t.idle();
    expect(t.slack.ephemeralsFor('U0ANN').at(-1)!.text).toContain(`${never.key} is pending and was never deployed`);
  });

  it('blames a deployment: it counts as failed, and so does its change', async () => {
    const alerter = await t.token('incidents:write');
    const metrics = await t.token('read');
    const failures = async () => {
      // The window ends at now, exclusive: look from a minute later at what happened now.
      t.clock.advance(60_000);
      return (await t.api('GET', '/metrics/dora?service=payments', { token: metrics })).body.change_failure_rate.failed as number;
    };
    const failedBefore = await failures();
    const plain = await t.api('POST', '/deployments', { token: deployer, body: { service: 'payments', environment: 'production', status: 'success' } });
    const blamed = await t.api('POST', '/incidents', { token: alerter, body: { title: 'Latency after deploy', service: 'payments', deployment_id: plain.body.id } });
    expect(blamed.status).toBe(201);
    expect(blamed.body).toMatchObject({ caused_by_deployment_id: plain.body.id, caused_by_change_id: null });
    expect(await failures()).toBe(failedBefore + 1);

    const { body: change } = await requestChange({ title: 'Deploy v5.0.0' });
    await vote(change.key, 'change.approve');
    const withChange = await t.api('POST', '/deployments', { token: deployer, body: { service: 'payments', environment: 'production', status: 'success', change_id: change.key } });
    const second = await t.api('POST', '/incidents', { token: alerter, body: { title: 'Errors after v5', service: 'payments', deployment_id: withChange.body.id } });
    expect(second.body.caused_by_change_id).toBe(change.id);
    expect((await t.api('GET', `/changes/${change.key}`, { token: reader })).body.status).toBe('failed');
    // An alert naming a deployment Tandem does not know is still recorded, without a cause.
    const unknown = await t.api('POST', '/incidents', { token: alerter, body: { title: 'x', deployment_id: '00000000-0000-0000-0000-000000000000' } });
    expect(unknown.status).toBe(201);
    expect(unknown.body).toMatchObject({ caused_by_deployment_id: null, warnings: ['Ignored "deployment_id": there is no deployment 00000000-0000-0000-0000-000000000000.'] });
  });

  it('keeps the audit log append-only in the database itself', async () => {
    const { db } = t.database.handle;
    await expect(db.execute(sql`update change_audit set actor = 'someone else'`)).rejects.toThrow();
    await expect(db.execute(sql`delete from change_audit`)).rejects.toThrow();
  });

  it('runs the pipeline gate: exit 0 when approved, 1 when rejected, 3 on timeout', async () => {
    const gate = (title: string, timeout: string) =>
      runTandem('src/cli/main.ts', ['gate', '--service', 'payments', '--env', 'production', '--title', title, '--ref', 'main', '--timeout', timeout], {
        TANDEM_URL: t.baseUrl,
        TANDEM_TOKEN: pipeline,
      });
    const waitForRequest = async (title: string) => {
      for (let attempt = 0; attempt < 100; attempt += 1) {
        await t.idle();
        const [row] = await t.database.handle.db.select().from(changes).where(eq(changes.title, title));
        if (row && approvalFor(`CHG-${row.number}`)) return `CHG-${row.number}`;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the gate never requested "${title}"`);
    };

    const approved = gate('Gate approves', '2m');
    await vote(await waitForRequest('Gate approves'), 'change.approve');
    const approvedResult = await approved.finished;
    expect(approvedResult.code).toBe(0);
    expect(approvedResult.stdout).toMatch(/tandem gate: CHG-\d+ approved by U0ANN at 2026-11-23T\d\d:\d\d:\d\d\.\d{3}Z\n$/);

    const rejected = gate('Gate rejects', '2m');
    const key = await waitForRequest('Gate rejects');
    await vote(key, 'change.reject');
    const [view] = t.slack.openViews('U0ANN').filter((candidate) => candidate.view.callback_id === 'change.reject');
    await t.simulator.submit('U0ANN', view!.id, { reason: 'Wrong branch' });
    await t.idle();
    const rejectedResult = await rejected.finished;
    expect(rejectedResult.code).toBe(1);
    expect(rejectedResult.stdout).toContain(`tandem gate: ${key} rejected by U0ANN`);

    const timedOut = await gate('Gate times out', '2s').finished;
    expect(timedOut.code).toBe(3);
    expect(timedOut.stdout).toContain('is still waiting for approval; giving up after the timeout');
  }, 60_000);

  it.skipIf(!inject('postgres'))('wakes a waiting pipeline when another instance decides', async () => {
    const other = await t.database.openAnother();
    const listener = new DecisionFeed(t.database.handle);
    await listener.start();
    try {
      const wake = listener.subscribe('00000000-0000-0000-0000-000000000042', 10_000, new AbortController().signal);
      const started = Date.now();
      await other.db.transaction(async (tx) => new DecisionFeed(other).announce(tx, '00000000-0000-0000-0000-000000000042'));
      await wake.decided;
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await listener.stop();
    }
  });
});

describe('the gate while Tandem cannot answer', () => {
  type Scripted = { status: number; body?: unknown; headers?: Record<string, string> };
  let server: Server;
  let url: string;
  let script: Scripted[] = [];
  const requests: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const next = script.shift() ?? { status: 500 };
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body ?? {}));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const change = (status: string) => ({
    id: 'c-1',
    key: 'CHG-7',
    status,
    type: 'normal',
    service: 'payments',
    environment: 'production',
    decision: status === 'pending' ? null : { by: 'U0ANN', at: '2026-11-23T09:05:00.000Z', reason: null },
    policy: null,
  });
  const request: GateRequest = { service: 'payments', environment: 'production', title: 'Deploy', type: 'normal', timeoutMs: 60_000 };
  /** Runs the gate on a clock that moves only when it sleeps, so waits are measured exactly and cost nothing. */
  const gate = async (steps: Scripted[], options: { timeoutMs?: number; target?: string } = {}) => {
    script = [...steps];
    requests.length = 0;
    let now = 0;
    const sleeps: number[] = [];
    const lines: string[] = [];
    const code = await runGate({ url: options.target ?? url, token: 'tdm_x' }, { ...request, timeoutMs: options.timeoutMs ?? request.timeoutMs }, {
      out: (line) => lines.push(line),
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      random: () => 0.5,
    });
    return { code, sleeps, lines, elapsed: now };
  };
  const unavailable = (seconds: number): Scripted => ({
    status: 503,
    headers: { 'retry-after': String(seconds) },
    body: { error: { code: 'database_unavailable', message: 'Tandem cannot reach its database right now.' } },
  });

  it('waits out 503s as long as Retry-After asks, then carries on to the decision', async () => {
    const run = await gate([unavailable(7), unavailable(7), { status: 201, body: change('pending') }, unavailable(2), { status: 200, body: change('approved') }]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([7_000, 7_000, 2_000]);
    expect(requests).toEqual(['POST /api/v1/changes', 'POST /api/v1/changes', 'POST /api/v1/changes', 'GET /api/v1/changes/c-1?wait=46', 'GET /api/v1/changes/c-1?wait=46']);
    expect(run.lines[0]).toBe('tandem gate: Tandem could not answer (503 database_unavailable): Tandem cannot reach its database right now.; retrying in 7s');
    expect(run.lines.at(-1)).toBe('tandem gate: CHG-7 approved by U0ANN at 2026-11-23T09:05:00.000Z');
  });

  it('backs off exponentially with jitter on 5xx and 429, and never sleeps past its timeout', async () => {
    const run = await gate([{ status: 500 }, { status: 502 }, { status: 429 }, { status: 504 }, { status: 503 }], { timeoutMs: 20_000 });
    expect(run.code).toBe(4);
    // Jitter pinned at the middle: three quarters of 1 s, 2 s, 4 s, 8 s …, cut off by the timeout.
    expect(run.sleeps).toEqual([750, 1_500, 3_000, 6_000, 8_750]);
    expect(run.elapsed).toBe(20_000);
    expect(requests).toHaveLength(5);
    expect(run.lines.at(-1)).toBe('tandem gate: Tandem could not answer (503): Service Unavailable; giving up after the timeout');
  });

  it('retries when Tandem cannot be reached at all, within the timeout', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await gate([], { timeoutMs: 5_000, target });
    expect(run.code).toBe(4);
    expect(run.sleeps.length).toBeGreaterThan(1);
    expect(run.elapsed).toBe(5_000);
    expect(run.lines.at(-1)).toBe(`tandem gate: Tandem could not be reached at ${target} (ECONNREFUSED); giving up after the timeout`);
  });

  it('gives up at once when Retry-After asks for longer than its timeout allows', async () => {
    const run = await gate([unavailable(120)], { timeoutMs: 30_000 });
    expect(run.code).toBe(4);
    expect(run.sleeps).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(run.lines).toEqual([
      'tandem gate: Tandem could not answer (503 database_unavailable): Tandem cannot reach its database right now.; it asks to retry in 120s, after the timeout',
    ]);
  });

  it('reads any other 4xx as a refusal, without retrying', async () => {
    const run = await gate([{ status: 422, body: { error: { code: 'validation_failed', message: 'The request body is not valid: service unknown.' } } }]);
    expect(run.code).toBe(2);
    expect(run.sleeps).toEqual([]);
    expect(run.lines).toEqual(['tandem gate: Tandem refused (422 validation_failed): The request body is not valid: service unknown.']);
  });
});
