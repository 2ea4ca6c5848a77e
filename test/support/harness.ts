import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type Catalog, emptyCatalog, parseCatalog } from '../../src/catalog';
import type { Config } from '../../src/config';
import { createApiToken } from '../../src/api/tokens';
import { openDatabase } from '../../src/db/client';
import { createLogger } from '../../src/log';
import { FakeSlack, SlackSimulator } from '../../src/fake-slack';
import { startTandem, type Tandem } from '../../src/tandem';
import { TestClock } from './clock';
import { createTestDatabase, type TestDatabase } from './database';
import { interceptSlack, slackOrigin } from './fake-slack';

export const signingSecret = 'test-signing-secret';

export interface Harness {
  /** Replaced by restart(). */
  tandem: Tandem;
  catalog: Catalog;
  slack: FakeSlack;
  simulator: SlackSimulator;
  database: TestDatabase;
  clock: TestClock;
  baseUrl: string;
  /** Waits for listener work, background work and due outbox messages. */
  idle(): Promise<void>;
  api(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  token(...scopes: string[]): Promise<string>;
  /** Stops this Tandem and starts a new one on the same database, fake Slack and clock, as a deploy would. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  catalog?: string | Catalog;
  clock?: TestClock;
  /** Prepares the fake workspace (users, channels) before Tandem starts. */
  workspace?: (slack: FakeSlack) => void;
  config?: Partial<Config>;
  /**
   * Starts a second instance beside this one: its own connection pool to the same
   * database (PostgreSQL only), the same fake Slack and clock. Stopping it leaves the database.
   */
  alongside?: Harness;
  /**
   * Tandem reaches the test database at this URL instead (PostgreSQL only), for
   * example through a proxy the test cuts; the harness's own handle stays direct.
   */
  databaseUrl?: (url: string) => string;
}

/** The fake workspace grants exactly what the manifest asks for, so a missing scope fails a test. */
const manifestScopes = (
  parse(readFileSync(new URL('../../manifests/slack-app.yaml', import.meta.url), 'utf8')) as { oauth_config: { scopes: { bot: string[] } } }
).oauth_config.scopes.bot;

let activeSlack: FakeSlack | undefined;
let interceptor: ReturnType<typeof interceptSlack> | undefined;

/** Tandem on a fresh database, talking to a fake Slack through msw, on a real HTTP port. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { alongside } = options;
  const catalog =
    typeof options.catalog === 'string' ? parseCatalog(options.catalog) : (options.catalog ?? alongside?.catalog ?? emptyCatalog);
  const clock = options.clock ?? alongside?.clock ?? new TestClock();
  const slack = alongside?.slack ?? new FakeSlack({ origin: slackOrigin, scopes: manifestScopes, clock });
  if (!alongside) {
    for (const user of catalogUsers(catalog)) slack.addUser({ id: user, name: user.toLowerCase() });
    for (const channel of catalogChannels(catalog)) slack.addChannel({ id: channel, name: channel.toLowerCase() });
    options.workspace?.(slack);
  }
  activeSlack = slack;
  interceptor ??= interceptSlack(() => {
    if (!activeSlack) throw new Error('no fake Slack is active');
    return activeSlack;
  });

  const database = alongside ? await sharedDatabase(alongside.database) : await createTestDatabase();
  const tandemDatabase =
    options.databaseUrl && database.url ? await openDatabase({ url: options.databaseUrl(database.url), dataDir: '' }) : database.handle;
  const config: Config = {
    database: { url: database.url, dataDir: '' },
    slack: { botToken: slack.botToken, signingSecret, appToken: undefined, apiUrl: slack.apiUrl },
    port: 0,
    catalogPath: undefined,
    timeZone: 'UTC',
    migrateOnStart: false,
    logLevel: 'silent',
    ...options.config,
  };
  const boot = async () => {
    const tandem = await startTandem({ config, catalog, logger: createLogger(process.env.TANDEM_TEST_LOG ? 'debug' : 'silent'), clock, database: tandemDatabase });
    const baseUrl = `http://127.0.0.1:${tandem.port}`;
    return { tandem, baseUrl, simulator: new SlackSimulator(slack, { requestUrl: `${baseUrl}/slack/events`, signingSecret, clock }) };
  };

  const harness: Harness = {
    ...(await boot()),
    catalog,
    slack,
    database,
    clock,
    idle: () => harness.tandem.idle(),
    async api(method, path, { token, body, headers = {} } = {}) {
      const response = await fetch(`${harness.baseUrl}/api/v1${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    async token(...scopes) {
      const { token } = await createApiToken(database.handle.db, clock, { name: `test-${Math.random().toString(36).slice(2, 8)}`, scopes });
      return token;
    },
    async restart() {
      await harness.tandem.stop();
      Object.assign(harness, await boot());
    },
    async stop() {
      await harness.tandem.stop();
      if (tandemDatabase !== database.handle) await tandemDatabase.close();
      await database.drop();
      if (activeSlack === slack && !alongside) activeSlack = undefined;
    },
  };
  return harness;
}

/** Another connection pool to a test database, closed (not dropped) when its instance stops. */
async function sharedDatabase(database: TestDatabase): Promise<TestDatabase> {
  const handle = await database.openAnother();
  return { ...database, handle, drop: () => handle.close() };
}

function catalogUsers(catalog: Catalog): string[] {
  const users = new Set<string>();
  for (const service of Object.values(catalog.services)) {
    for (const user of [...service.owners, ...service.oncall, ...service.approvers.users]) users.add(user);
  }
  for (const members of Object.values(catalog.groups)) for (const user of members) users.add(user);
  return [...users];
}

function catalogChannels(catalog: Catalog): string[] {
  const channels = new Set<string>();
  for (const service of Object.values(catalog.services)) {
    if (service.channels.incidents) channels.add(service.channels.incidents);
    if (service.channels.approvals) channels.add(service.channels.approvals);
    for (const channel of service.channels.customers) channels.add(channel);
  }
  if (catalog.report) channels.add(catalog.report.channel);
  return [...channels];
}
