import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackSimulator } from '../src/sandbox/slack/simulator';
import type { FakeSlack } from '../src/sandbox/slack/workspace';
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
});
