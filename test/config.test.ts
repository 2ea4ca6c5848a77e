import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadDatabaseConfig, loadSandboxConfig } from '../src/config';

const base = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'shh' };
const cwd = mkdtempSync(path.join(tmpdir(), 'tandem-config-'));

const failure = (env: Record<string, string>) => {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
};

const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAtest\n-----END RSA PRIVATE KEY-----';

describe('GitHub App configuration', () => {
  const app = { GITHUB_APP_ID: '4242', GITHUB_APP_PRIVATE_KEY: pem, GITHUB_WEBHOOK_SECRET: 'whsec-secret' };

  it('is off when none of the App variables are set', () => {
    expect(loadConfig(base, cwd).github).toBeUndefined();
  });

  it('is on with all three, the key given as PEM text (escaped newlines too) or as the path of a .pem file', () => {
    expect(loadConfig({ ...base, ...app }, cwd).github).toEqual({ appId: '4242', privateKey: pem, webhookSecret: 'whsec-secret', apiUrl: 'https://api.github.com/' });
    expect(loadConfig({ ...base, ...app, GITHUB_APP_PRIVATE_KEY: pem.replaceAll('\n', '\\n') }, cwd).github?.privateKey).toBe(pem);
    writeFileSync(path.join(cwd, 'app.pem'), `${pem}\n`);
    expect(loadConfig({ ...base, ...app, GITHUB_APP_PRIVATE_KEY: 'app.pem' }, cwd).github?.privateKey).toBe(pem);
    expect(loadConfig({ ...base, ...app, GITHUB_API_URL: 'https://ghe.acme.test/api/v3' }, cwd).github?.apiUrl).toBe('https://ghe.acme.test/api/v3/');
  });

  it('refuses some but not all of them, naming the missing ones and never echoing a secret', () => {
    const message = failure({ ...base, GITHUB_APP_ID: '4242', GITHUB_WEBHOOK_SECRET: 'whsec-secret' });
    expect(message).toBe(
      'GITHUB_APP_PRIVATE_KEY is required with GITHUB_APP_ID and GITHUB_WEBHOOK_SECRET (the GitHub App integration needs GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET)',
    );
    expect(failure({ ...base, GITHUB_WEBHOOK_SECRET: 'whsec-secret' })).toMatch(/^GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY are required with GITHUB_WEBHOOK_SECRET/);
    const wrongKey = failure({ ...base, ...app, GITHUB_APP_PRIVATE_KEY: 'not-a-key-but-a-secret' });
    expect(wrongKey).toMatch(/^GITHUB_APP_PRIVATE_KEY must be the PEM text/);
    expect(wrongKey).not.toContain('not-a-key-but-a-secret');
    expect(failure({ ...base, ...app, GITHUB_APP_ID: 'my-app' })).toBe('GITHUB_APP_ID must be the App\'s numeric ID (got "my-app")');
    expect(failure({ ...base, ...app, GITHUB_API_URL: 'ftp://x' })).toMatch(/^GITHUB_API_URL must be an http\(s\) URL/);
  });
});

describe('configuration', () => {
  it('fills in the contract defaults', () => {
    const config = loadConfig(base, cwd);
    expect(config).toMatchObject({
      port: 3000,
      timeZone: 'UTC',
      migrateOnStart: true,
      catalogPath: undefined,
      slack: { apiUrl: 'https://slack.com/api/', appToken: undefined, botToken: 'xoxb-1-2-abc' },
      database: { url: undefined, dataDir: path.join(cwd, '.tandem') },
    });
  });

  it('names the variable that is missing or malformed', () => {
    expect(failure({ SLACK_SIGNING_SECRET: 'x' })).toMatch(/^SLACK_BOT_TOKEN is required/);
    expect(failure({ ...base, PORT: 'abc' })).toBe('PORT must be a port number from 0 to 65535 (got "abc")');
    expect(failure({ ...base, PORT: '70000' })).toContain('PORT must be a port number');
    expect(failure({ ...base, SLACK_API_URL: 'https://slack.com/api' })).toMatch(/^SLACK_API_URL must end in \//);
    expect(failure({ ...base, TANDEM_TIMEZONE: 'Mars/Olympus' })).toMatch(/^TANDEM_TIMEZONE must be an IANA time zone/);
    expect(failure({ ...base, DATABASE_URL: 'mysql://x' })).toMatch(/^DATABASE_URL must be a postgres/);
    expect(failure({ ...base, TANDEM_MIGRATE: 'sometimes' })).toMatch(/^TANDEM_MIGRATE must be on or off/);
  });

  it('never echoes a secret back in the message', () => {
    const message = failure({ SLACK_BOT_TOKEN: 'xoxp-personal-secret', SLACK_SIGNING_SECRET: 'x' });
    expect(message).toContain('SLACK_BOT_TOKEN must be a bot token');
    expect(message).not.toContain('xoxp-personal-secret');
  });

  it('needs a signing secret over HTTP but not in Socket Mode', () => {
    expect(failure({ SLACK_BOT_TOKEN: 'xoxb-1' })).toMatch(/^SLACK_SIGNING_SECRET is required in HTTP mode/);
    const socket = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }, cwd);
    expect(socket.slack.appToken).toBe('xapp-1');
  });

  it('uses ./tandem.yaml when present and refuses a TANDEM_CATALOG that points at nothing', () => {
    expect(failure({ ...base, TANDEM_CATALOG: 'missing.yaml' })).toBe(
      `TANDEM_CATALOG points at ${path.join(cwd, 'missing.yaml')}, which does not exist`,
    );
    const withCatalog = mkdtempSync(path.join(tmpdir(), 'tandem-catalog-'));
    writeFileSync(path.join(withCatalog, 'tandem.yaml'), 'services: {}\n');
    expect(loadConfig(base, withCatalog).catalogPath).toBe(path.join(withCatalog, 'tandem.yaml'));
  });

  it('prefers TANDEM_TIMEZONE over TZ and accepts the POSIX colon form', () => {
    expect(loadConfig({ ...base, TZ: ':Europe/Paris' }, cwd).timeZone).toBe('Europe/Paris');
    expect(loadConfig({ ...base, TZ: 'Europe/Paris', TANDEM_TIMEZONE: 'Asia/Tokyo' }, cwd).timeZone).toBe('Asia/Tokyo');
  });

  it('reads only database settings for the CLI', () => {
    expect(loadDatabaseConfig({ DATABASE_URL: 'postgres://u@h/db' }, cwd)).toEqual({
      url: 'postgres://u@h/db',
      dataDir: path.join(cwd, '.tandem'),
    });
  });

  it('reads the sandbox’s own settings: a free port and quiet logs unless told otherwise', () => {
    expect(loadSandboxConfig({})).toEqual({ port: 0, logLevel: 'warn' });
    expect(loadSandboxConfig({ SANDBOX_PORT: '8080', LOG_LEVEL: 'debug' })).toEqual({ port: 8080, logLevel: 'debug' });
  });
});
