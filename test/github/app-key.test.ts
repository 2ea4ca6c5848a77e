import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appId, privateKey, startGitHubHarness, webhookSecret } from './support';

const catalog = `
services:
  payments:
    approvers: { users: [U0ANN] }
    github: { repositories: [acme/payments-api] }
`;

/** The App's key as the process reads it: PEM text in the variable, or the path of the .pem file GitHub downloads. */
describe('the GitHub App private key', () => {
  const gateOnce = async (env: (apiUrl: string) => Record<string, string>) => {
    const t = await startGitHubHarness({ catalog, env });
    try {
      t.github.addRepository('acme/payments-api');
      const run = t.github.addRun('acme/payments-api', { waiting: ['production'] });
      expect((await t.deliver('deployment_protection_rule', t.github.protectionRuleRequested('acme/payments-api', run, 'production', t.apiUrl))).status).toBe(202);
      await t.idle();
      return { tokens: t.github.tokensIssued, comments: t.github.comments(run.id) };
    } finally {
      await t.stopAll();
    }
  };
  const variables = (key: string) => (apiUrl: string) => ({ GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: key, GITHUB_WEBHOOK_SECRET: webhookSecret, GITHUB_API_URL: apiUrl });

  it('works given as PEM text, in PKCS#1 as GitHub hands it out or in PKCS#8', async () => {
    expect(await gateOnce(variables(privateKey))).toEqual({ tokens: 1, comments: ['CHG-1 waiting for 1 of 1 approval in Slack'] });
    const pkcs8 = createPrivateKey(privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await gateOnce(variables(pkcs8))).toEqual({ tokens: 1, comments: ['CHG-1 waiting for 1 of 1 approval in Slack'] });
  });

  it('works given as the path of a .pem file', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tandem-github-')), 'tandem.2026-11-23.private-key.pem');
    writeFileSync(file, privateKey);
    expect(await gateOnce(variables(file))).toEqual({ tokens: 1, comments: ['CHG-1 waiting for 1 of 1 approval in Slack'] });
  });
});
