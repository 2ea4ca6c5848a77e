import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { FakeGitHub, signedWebhook, startFakeGitHub } from '../../src/fake-github';
import { TestClock } from '../support/clock';
import { type Harness, type HarnessOptions, startHarness } from '../support/harness';

export const webhookSecret = 'test-github-webhook-secret';
export const appId = '4242';
/** GitHub hands out PKCS#1 keys ("BEGIN RSA PRIVATE KEY"). */
export const privateKey = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

export interface GitHubHarness extends Harness {
  github: FakeGitHub;
  apiUrl: string;
  /** Posts a webhook to Tandem signed as GitHub signs it. */
  deliver(event: string, payload: unknown, options?: { deliveryId?: string; secret?: string }): Promise<{ status: number; body: any }>;
  stopAll(): Promise<void>;
}

/** Tandem with the GitHub App on, against a stand-in GitHub; `env` gives the App's variables as the process would read them. */
export async function startGitHubHarness(options: HarnessOptions & { catalog: string; env?: (apiUrl: string) => Record<string, string> }): Promise<GitHubHarness> {
  const clock = options.clock ?? new TestClock();
  const github = new FakeGitHub({ appId, privateKey, now: () => clock.now().getTime() });
  const fake = await startFakeGitHub(github);
  const fromEnv = options.env
    ? loadConfig({ SLACK_BOT_TOKEN: 'xoxb-unused', SLACK_SIGNING_SECRET: 'unused', ...options.env(fake.apiUrl) }).github
    : { appId, privateKey, webhookSecret, apiUrl: fake.apiUrl };
  const t = await startHarness({ ...options, clock, config: { github: fromEnv, ...options.config } });
  return Object.assign(t, {
    github,
    apiUrl: fake.apiUrl,
    async deliver(event: string, payload: unknown, { deliveryId, secret = webhookSecret }: { deliveryId?: string; secret?: string } = {}) {
      const { body, headers } = await signedWebhook(secret, event, payload, deliveryId);
      const response = await fetch(`${t.baseUrl}/github/webhooks`, { method: 'POST', headers, body });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async stopAll() {
      await t.stop();
      await fake.close();
    },
  });
}
