import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSlack, SlackSimulator } from '../src/fake-slack';
import { runTandem, serveFakeSlack, waitForOutput } from './support/process';

const signingSecret = 'process-test-secret';

describe('the tandem process', () => {
  let fake: Awaited<ReturnType<typeof serveFakeSlack>>;
  let slack: FakeSlack;
  beforeAll(async () => {
    fake = await serveFakeSlack();
    slack = fake.slack;
    slack.addUser({ id: 'U0ALICE', name: 'alice' });
    slack.addChannel({ id: 'C0GENERAL', name: 'general', members: ['U0ALICE'] });
    slack.addChannel({ id: 'C0INCIDENTS', name: 'incidents' });
  });
  afterAll(() => fake.close());

  const env = (overrides: Record<string, string> = {}) => ({
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    TANDEM_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'tandem-data-')),
    PORT: '0',
    LOG_LEVEL: 'info',
    ...overrides,
  });

  const startupFailure = async (overrides: Record<string, string>) => {
    const result = await runTandem('src/main.ts', [], env(overrides)).finished;
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    return lines[0];
  };

  it('stops at start-up with one line naming the variable or file', async () => {
    const catalog = path.join(mkdtempSync(path.join(tmpdir(), 'tandem-catalog-')), 'tandem.yaml');
    writeFileSync(catalog, 'services:\n  payments:\n    ownerz: [U0123]\n');
    const lines = await Promise.all([
      startupFailure({ SLACK_BOT_TOKEN: '' }),
      startupFailure({ PORT: 'abc' }),
      startupFailure({ TANDEM_CATALOG: '/nowhere/tandem.yaml' }),
      startupFailure({ TANDEM_CATALOG: catalog }),
      startupFailure({ SLACK_BOT_TOKEN: 'xoxb-wrong' }),
    ]);
    expect(lines).toEqual([
      'tandem: SLACK_BOT_TOKEN is required (the xoxb-… bot token from your Slack app)',
      'tandem: PORT must be a port number from 0 to 65535 (got "abc")',
      'tandem: TANDEM_CATALOG points at /nowhere/tandem.yaml, which does not exist',
      `tandem: ${catalog}: services.payments: Unrecognized key: "ownerz"`,
      'tandem: SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)',
    ]);
  });

  it('refuses a partly configured GitHub App at start-up, naming what is missing and no secret', async () => {
    const line = await startupFailure({ GITHUB_APP_ID: '4242', GITHUB_WEBHOOK_SECRET: 'never-echoed' });
    expect(line).toBe(
      'tandem: GITHUB_APP_PRIVATE_KEY is required with GITHUB_APP_ID and GITHUB_WEBHOOK_SECRET (the GitHub App integration needs GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET)',
    );
  });

  it('serves on the embedded database, refuses a second process on it, and stops cleanly on SIGTERM after finishing in-flight work', async () => {
    const settings = env();
    const running = runTandem('src/main.ts', [], settings);
    const [, port] = await waitForOutput(running, /"port":(\d+).*"msg":"tandem is serving"/);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(existsSync(path.join(settings.TANDEM_DATA_DIR, 'tandem.pid'))).toBe(true);

    const second = await runTandem('src/main.ts', [], { ...settings }).finished;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/tandem: the embedded database in .* is in use by process \d+/);

    // A declaration whose channel creation is slow is still finished after SIGTERM.
    slack.failNext('conversations.create', { delayMs: 1_500 });
    const simulator = new SlackSimulator(slack, { requestUrl: `${base}/slack/events`, signingSecret });
    const ack = await simulator.command('U0ALICE', 'C0GENERAL', '/incident', 'Slow Slack during deploy');
    expect(ack.status).toBe(200);
    const started = Date.now();
    running.child.kill('SIGTERM');
    const result = await running.finished;
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The channel name carries today's date: the process runs on the real clock.
    expect([...slack.channels.values()].some((channel) => /^inc-\d{8}-1-slow-slack-during-deploy$/.test(channel.name))).toBe(true);
    expect(slack.ephemeralsFor('U0ALICE').at(-1)?.text).toContain('Declared *INC-1*');
    expect(result.stdout).toContain('"msg":"stopped"');
    expect(existsSync(path.join(settings.TANDEM_DATA_DIR, 'tandem.pid'))).toBe(false);
  });

  const catalogFile = () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tandem-catalog-')), 'tandem.yaml');
    writeFileSync(
      file,
      'services:\n  payments:\n    owners: [U0ALICE]\n    approvers: { users: [U0BOB] }\n    channels: { incidents: C0INCIDENTS }\n',
    );
    return file;
  };
  const eventually = async (condition: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('finishes a swarm set-up after the process is killed mid-way, with one channel, a pinned summary and the announcement', async () => {
    const settings = env({ TANDEM_CATALOG: catalogFile() });
    const first = runTandem('src/main.ts', [], settings);
    const [, port] = await waitForOutput(first, /"port":(\d+).*"msg":"tandem is serving"/);
    // Slack makes the channel at once but answers late: the process dies before it hears back.
    slack.failNext('conversations.create', { delayMs: 5_000 });
    const simulator = new SlackSimulator(slack, { requestUrl: `http://127.0.0.1:${port}/slack/events`, signingSecret });
    expect((await simulator.command('U0ALICE', 'C0GENERAL', '/incident', 'Killed mid setup service=payments')).status).toBe(200);
    const incidentChannels = () => [...slack.channels.values()].filter((channel) => /^inc-\d{8}-1-killed-mid-setup/.test(channel.name));
    await eventually(() => incidentChannels().length === 1, 5_000);
    first.child.kill('SIGKILL');
    await first.finished;

    const second = runTandem('src/main.ts', [], settings);
    await waitForOutput(second, /"msg":"tandem is serving"/);
    const announced = () => slack.messagesIn('C0INCIDENTS').filter((message) => message.text.includes('INC-1'));
    const started = Date.now();
    await eventually(() => announced().length > 0 && slack.messagesIn(incidentChannels()[0]!.id).some((message) => message.pinned), 20_000);
    const resumedInMs = Date.now() - started;
    expect(resumedInMs).toBeLessThan(15_000);
    expect(incidentChannels()).toHaveLength(1);
    expect(incidentChannels()[0]!.members.has('U0ALICE')).toBe(true);
    expect(slack.messagesIn(incidentChannels()[0]!.id).filter((message) => message.pinned)).toHaveLength(1);
    expect(announced()).toHaveLength(1);
    second.child.kill('SIGTERM');
    expect((await second.finished).code).toBe(0);
  }, 40_000);

  it('on SIGTERM answers requests in flight and connections not yet sending, with 20 long-polls and no listener warning, and exits 0 in time', async () => {
    const settings = env({ TANDEM_CATALOG: catalogFile() });
    const created = await runTandem('src/cli/main.ts', ['token', 'create', '--name', 'ci', '--scope', 'changes:write', '--scope', 'read'], settings).finished;
    const token = created.stdout.trim().split('\n').at(-1)!;
    const running = runTandem('src/main.ts', [], settings);
    const [, port] = await waitForOutput(running, /"port":(\d+).*"msg":"tandem is serving"/);
    const base = `http://127.0.0.1:${port}/api/v1`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const change = await fetch(`${base}/changes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ service: 'payments', title: 'Deploy 1.2.3', type: 'normal', environment: 'production', requested_by: 'U0ALICE' }),
    });
    expect(change.status).toBe(201);
    const { id } = (await change.json()) as { id: string };
    const polls = Array.from({ length: 20 }, () => fetch(`${base}/changes/${id}?wait=30`, { headers }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Connected, request not yet sent: a client that is about to ask.
    const opened = Array.from({ length: 3 }, () => connect(Number(port), '127.0.0.1'));
    const sockets = await Promise.all(opened.map((socket) => new Promise<Socket>((resolve) => socket.once('connect', () => resolve(socket)))));
    const started = Date.now();
    running.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answers = sockets.map(
      (socket) =>
        new Promise<string>((resolve) => {
          let received = '';
          socket.on('data', (chunk) => (received += chunk));
          socket.on('error', (error) => resolve(`error: ${error.message}`));
          socket.on('close', () => resolve(received));
          socket.write('GET /healthz HTTP/1.1\r\nHost: tandem\r\n\r\n');
        }),
    );
    for (const answer of await Promise.all(answers)) expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const answered = await Promise.all(polls);
    expect(answered.map((response) => response.status)).toEqual(Array(20).fill(200));
    const result = await running.finished;
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.stderr).not.toContain('MaxListenersExceededWarning');
    expect(result.stdout).toContain('"msg":"stopped"');
  }, 40_000);
});
