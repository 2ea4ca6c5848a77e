import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isTimeZone } from './time';

/**
 * Process configuration, parsed once from the environment. This is the only module
 * that reads `process.env`; everything else receives these typed values.
 */
export interface Config {
  database: DatabaseConfig;
  slack: SlackConfig;
  port: number;
  /** Absolute path of the service catalog, or undefined when there is none. */
  catalogPath: string | undefined;
  /** IANA time zone used for schedules and dates when nothing more specific applies. */
  timeZone: string;
  migrateOnStart: boolean;
  logLevel: LogLevel;
  /** The GitHub App that gates deployments; undefined when the integration is off. */
  github?: GitHubConfig;
}

export interface GitHubConfig {
  appId: string;
  /** PEM text, read from the file when the variable named one. */
  privateKey: string;
  webhookSecret: string;
  /** Base URL of the REST API, ending in /. */
  apiUrl: string;
}

export interface DatabaseConfig {
  /** postgres.js connection URL; undefined selects the embedded PGlite database. */
  url: string | undefined;
  dataDir: string;
}

export interface SlackConfig {
  botToken: string;
  /** Required in HTTP mode; Socket Mode authenticates with the app token instead. */
  signingSecret: string | undefined;
  appToken: string | undefined;
  apiUrl: string;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const blankIsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalText = z.preprocess(blankIsUnset, z.string().optional());

const portNumber = (fallback: number) =>
  z.preprocess(
    blankIsUnset,
    z.coerce
      .number({ error: 'must be a port number from 0 to 65535' })
      .int('must be a whole port number from 0 to 65535')
      .min(0, 'must be a port number from 0 to 65535')
      .max(65535, 'must be a port number from 0 to 65535')
      .default(fallback),
  );
const logLevel = (fallback: LogLevel) =>
  z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value),
    z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default(fallback),
  );

const databaseEnv = z.object({
  DATABASE_URL: z.preprocess(
    blankIsUnset,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  TANDEM_DATA_DIR: optionalText,
});

const serverEnv = databaseEnv.extend({
  SLACK_BOT_TOKEN: z.preprocess(
    blankIsUnset,
    z
      .string({ error: 'is required (the xoxb-… bot token from your Slack app)' })
      .startsWith('xoxb-', 'must be a bot token starting with xoxb-'),
  ),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: z.preprocess(
    blankIsUnset,
    z.string().startsWith('xapp-', 'must be an app-level token starting with xapp-').optional(),
  ),
  SLACK_API_URL: z.preprocess(
    blankIsUnset,
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL ending in /' })
      .endsWith('/', 'must end in / (for example https://slack.com/api/)')
      .default('https://slack.com/api/'),
  ),
  PORT: portNumber(3000),
  TANDEM_CATALOG: optionalText,
  TANDEM_TIMEZONE: optionalText,
  TZ: optionalText,
  TANDEM_MIGRATE: z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value),
    z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  ),
  LOG_LEVEL: logLevel('info'),
  GITHUB_APP_ID: optionalText,
  GITHUB_APP_PRIVATE_KEY: optionalText,
  GITHUB_WEBHOOK_SECRET: optionalText,
  GITHUB_API_URL: z.preprocess(
    blankIsUnset,
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL (for example https://api.github.com/)' })
      .transform((url) => (url.endsWith('/') ? url : `${url}/`))
      .default('https://api.github.com/'),
  ),
});

/** Reads only what the database needs: the CLI and migrations run without Slack settings. */
export function loadDatabaseConfig(env: Env = process.env, cwd = process.cwd()): DatabaseConfig {
  const parsed = parseEnv(databaseEnv, env);
  return {
    url: parsed.DATABASE_URL,
    dataDir: path.resolve(cwd, parsed.TANDEM_DATA_DIR ?? '.tandem'),
  };
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const parsed = parseEnv(serverEnv, env);
  if (!parsed.SLACK_APP_TOKEN && !parsed.SLACK_SIGNING_SECRET) {
    throw new ConfigError(
      'SLACK_SIGNING_SECRET is required in HTTP mode (find it under Basic Information in your Slack app), or set SLACK_APP_TOKEN for Socket Mode',
    );
  }
  return {
    database: loadDatabaseConfig(env, cwd),
    slack: {
      botToken: parsed.SLACK_BOT_TOKEN,
      signingSecret: parsed.SLACK_SIGNING_SECRET,
      appToken: parsed.SLACK_APP_TOKEN,
      apiUrl: parsed.SLACK_API_URL,
    },
    port: parsed.PORT,
    catalogPath: resolveCatalogPath(parsed.TANDEM_CATALOG, cwd),
    timeZone: resolveTimeZone(parsed.TANDEM_TIMEZONE, parsed.TZ),
    migrateOnStart: parsed.TANDEM_MIGRATE === 'on',
    logLevel: parsed.LOG_LEVEL,
    github: resolveGitHub(parsed, cwd),
  };
}

const githubVariables = ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_WEBHOOK_SECRET'] as const;

/** All three GitHub App variables turn the integration on, none leaves it off; some of them is a mistake worth stopping for. */
function resolveGitHub(parsed: z.infer<typeof serverEnv>, cwd: string): GitHubConfig | undefined {
  const missing = githubVariables.filter((variable) => parsed[variable] === undefined);
  if (missing.length === githubVariables.length) return undefined;
  if (missing.length > 0) {
    throw new ConfigError(
      `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} required with ${githubVariables.filter((v) => !missing.includes(v)).join(' and ')} (the GitHub App integration needs GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET)`,
    );
  }
  const appId = parsed.GITHUB_APP_ID as string;
  if (!/^\d+$/.test(appId.trim())) throw new ConfigError(`GITHUB_APP_ID must be the App's numeric ID (got "${appId}")`);
  return {
    appId: appId.trim(),
    privateKey: readPrivateKey(parsed.GITHUB_APP_PRIVATE_KEY as string, cwd),
    webhookSecret: parsed.GITHUB_WEBHOOK_SECRET as string,
    apiUrl: parsed.GITHUB_API_URL,
  };
}

/** PEM text as it is (with \n escapes as some hosts store it), or the contents of the file it names. */
function readPrivateKey(value: string, cwd: string): string {
  const text = value.trim();
  if (text.startsWith('-----BEGIN')) return text.replaceAll('\\n', '\n');
  const file = path.resolve(cwd, text);
  if (!existsSync(file)) {
    throw new ConfigError('GITHUB_APP_PRIVATE_KEY must be the PEM text of the App\'s private key or the path of its .pem file; it is neither');
  }
  const pem = readFileSync(file, 'utf8').trim();
  if (!pem.startsWith('-----BEGIN')) throw new ConfigError(`GITHUB_APP_PRIVATE_KEY points at ${file}, which holds no PEM private key`);
  return pem;
}

function resolveCatalogPath(configured: string | undefined, cwd: string): string | undefined {
  if (configured === undefined) {
    const fallback = path.resolve(cwd, 'tandem.yaml');
    return existsSync(fallback) ? fallback : undefined;
  }
  const resolved = path.resolve(cwd, configured);
  if (!existsSync(resolved)) {
    throw new ConfigError(`TANDEM_CATALOG points at ${resolved}, which does not exist`);
  }
  return resolved;
}

function resolveTimeZone(tandemTimeZone: string | undefined, tz: string | undefined): string {
  const [variable, value] = tandemTimeZone ? ['TANDEM_TIMEZONE', tandemTimeZone] : ['TZ', tz];
  if (value === undefined) return 'UTC';
  // TZ may carry the POSIX ':' prefix (":Europe/Paris"); Intl wants the bare zone name.
  const zone = value.replace(/^:/, '');
  if (!isTimeZone(zone)) {
    throw new ConfigError(`${variable} must be an IANA time zone such as Europe/Paris or UTC, got "${value}"`);
  }
  return zone;
}

export interface SandboxConfig {
  /** Where the browser page and the stand-in Slack listen; 0 picks a free port. */
  port: number;
  /** Tandem's log level inside the sandbox; quieter than a server's by default so the page's URL stands out. */
  logLevel: LogLevel;
}

const sandboxEnv = z.object({ SANDBOX_PORT: portNumber(0), LOG_LEVEL: logLevel('warn') });

/** What `npm run sandbox` may be told; Tandem's own settings inside the sandbox are made up by the sandbox. */
export function loadSandboxConfig(env: Env): SandboxConfig {
  const parsed = parseEnv(sandboxEnv, env);
  return { port: parsed.SANDBOX_PORT, logLevel: parsed.LOG_LEVEL };
}

/** Values never echoed back in an error message: they are secrets or may embed one. */
const secretVariables = new Set(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'DATABASE_URL', 'TANDEM_TOKEN', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_WEBHOOK_SECRET']);

function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.');
    const got = secretVariables.has(variable) ? undefined : env[variable];
    return `${variable} ${issue.message}${got === undefined || got === '' ? '' : ` (got "${got}")`}`;
  });
  throw new ConfigError(problems.join('; '));
}

export interface GateConfig {
  /** Where Tandem serves its REST API, without /api/v1. */
  url: string;
  token: string;
}

const gateEnv = z.object({
  TANDEM_URL: z.preprocess(
    blankIsUnset,
    z.url({ protocol: /^https?$/, error: 'must be the http(s) URL where Tandem runs' }).default('http://localhost:3000'),
  ),
  TANDEM_TOKEN: z.preprocess(
    blankIsUnset,
    z.string({ error: 'is required: an API token with the changes:write scope (npm run tandem -- token create)' }),
  ),
});

/** What the pipeline gate needs: where Tandem is and a token to ask it with. */
export function loadGateConfig(env: Env = process.env): GateConfig {
  const parsed = parseEnv(gateEnv, env);
  return { url: parsed.TANDEM_URL.replace(/\/+$/, ''), token: parsed.TANDEM_TOKEN };
}
