/**
 * Benchmark: one sprint digest fanned out to many subscribed customer channels,
 * through Tandem's real outbox worker, against a fake Slack over real HTTP that
 * enforces Slack's posting limits with 429 + Retry-After.
 *
 *   npm run bench -- [--channels 1000] [--workspace-rate 50] [--per-channel-rate 1]
 *
 * Uses PostgreSQL at TEST_DATABASE_URL (default the local server) in a scratch
 * database it drops afterwards, or the embedded database when none answers.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createApiToken } from '../../src/api/tokens';
import { parseCatalog } from '../../src/catalog';
import type { Config } from '../../src/config';
import { type DatabaseHandle, inMemory, openDatabase } from '../../src/db/client';
import { digestSubscriptions, slackOutbox } from '../../src/db/schema';
import { createLogger } from '../../src/log';
import { createFakeSlackServer } from '../../src/sandbox/slack/server';
import { FakeSlack } from '../../src/sandbox/slack/workspace';
import { startTandem } from '../../src/tandem';
import { systemClock } from '../../src/time';
import { withDatabase } from '../support/global-setup';

const { values } = parseArgs({
  options: {
    channels: { type: 'string', default: '1000' },
    'workspace-rate': { type: 'string', default: '50' },
    'per-channel-rate': { type: 'string', default: '1' },
    'timeout-seconds': { type: 'string', default: '300' },
  },
});
const channels = Number(values.channels);
const workspaceRate = Number(values['workspace-rate']);
const perChannelRate = Number(values['per-channel-rate']);
const timeoutMs = Number(values['timeout-seconds']) * 1000;

/** A scratch PostgreSQL database when one answers, else the embedded one. */
async function scratchDatabase(): Promise<{ handle: DatabaseHandle; url: string | undefined; label: string; drop: () => Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  const reachable = await admin`select 1`.then(
    () => true,
    () => false,
  );
  if (!reachable) {
    await admin.end({ timeout: 1 }).catch(() => {});
    const handle = await openDatabase({ url: undefined, dataDir: inMemory });
    await handle.migrate();
    return { handle, url: undefined, label: 'embedded PGlite', drop: () => handle.close() };
  }
  const name = `tandem_bench_${randomBytes(6).toString('hex')}`;
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const handle = await openDatabase({ url, dataDir: '' });
  await handle.migrate();
  return {
    handle,
    url,
    label: `PostgreSQL at ${new URL(adminUrl).host}`,
    async drop() {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

async function main() {
  const channelIds = Array.from({ length: channels }, (_, index) => `C0BENCH${String(index).padStart(5, '0')}`);
  let slack: FakeSlack | undefined;
  const slackServer = createFakeSlackServer(() => slack!);
  await new Promise<void>((resolve) => slackServer.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(slackServer.address() as AddressInfo).port}`;
  slack = new FakeSlack({ origin, postingLimits: { perChannelPerSecond: perChannelRate, workspacePerSecond: workspaceRate } });
  for (const id of channelIds) slack.addChannel({ id, name: id.toLowerCase() });

  const catalog = parseCatalog(`services:\n  acme:\n    owners: [U0OWNER]\n    channels:\n      customers: [${channelIds.join(', ')}]\n`);
  const database = await scratchDatabase();
  const config: Config = {
    database: { url: database.url, dataDir: '' },
    slack: { botToken: slack.botToken, signingSecret: 'bench', appToken: undefined, apiUrl: slack.apiUrl },
    port: 0,
    catalogPath: undefined,
    timeZone: 'UTC',
    migrateOnStart: false,
    logLevel: 'silent',
  };
  const tandem = await startTandem({ config, catalog, logger: createLogger('silent'), database: database.handle });
  try {
    const { db } = database.handle;
    const now = systemClock.now();
    await db.insert(digestSubscriptions).values(
      channelIds.map((channel) => ({ service: 'acme', channel, cron: '0 9 * * 1', timeZone: 'UTC', subscribedBy: 'U0OWNER', activeSince: now })),
    );
    const { token } = await createApiToken(db, systemClock, { name: 'bench', scopes: ['sprints:write'] });
    const sprint = {
      name: 'Sprint 42',
      service: 'acme',
      starts_on: '2026-11-23',
      ends_on: '2026-12-04',
      features: Array.from({ length: 20 }, (_, index) => ({ key: `ACME-${index + 1}`, title: `Feature ${index + 1}`, status: 'in-dev' })),
    };

    const started = performance.now();
    const answer = await fetch(`http://127.0.0.1:${tandem.port}/api/v1/sprints/ACME-42`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(sprint),
    });
    if (answer.status !== 200) throw new Error(`PUT /sprints answered ${answer.status}: ${await answer.text()}`);
    const posted = () => slack!.messages.length;
    while (posted() < channels && performance.now() - started < timeoutMs) await new Promise((resolve) => setTimeout(resolve, 10));
    const elapsedMs = performance.now() - started;
    // Let anything still in flight land, so a late duplicate would be counted.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const perChannel = new Map<string, number>();
    for (const message of slack.messages) perChannel.set(message.channel, (perChannel.get(message.channel) ?? 0) + 1);
    const duplicates = [...perChannel.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0);
    const rows = await db.select({ attempts: slackOutbox.attempts }).from(slackOutbox);
    const attempts = rows.reduce((sum, row) => sum + row.attempts, 0);
    // The workspace bucket starts full: a burst of `workspaceRate` posts, then `workspaceRate` a second.
    const minimumMs = Math.max(0, ((channels - workspaceRate) / workspaceRate) * 1000);

    const table: Array<[string, string]> = [
      ['channels subscribed', String(channels)],
      ['fake Slack limits', `${perChannelRate} msg/s per channel, ${workspaceRate} msg/s per workspace (burst ${workspaceRate}), 429 + Retry-After`],
      ['database', database.label],
      ['total time', `${(elapsedMs / 1000).toFixed(2)} s`],
      ['theoretical minimum', `${(minimumMs / 1000).toFixed(2)} s  ((${channels} − ${workspaceRate} burst) / ${workspaceRate} per s)`],
      ['messages posted', `${slack.messages.length} of ${channels}`],
      ['429 answers (each one a retry)', String(slack.postingLimits!.refused)],
      ['Slack calls per message', (attempts / Math.max(1, rows.length)).toFixed(2)],
      ['duplicates', String(duplicates)],
    ];
    const width = Math.max(...table.map(([label]) => label.length));
    console.log('Digest fan-out benchmark');
    for (const [label, value] of table) console.log(`  ${label.padEnd(width)}  ${value}`);
    if (duplicates > 0 || slack.messages.length < channels) process.exitCode = 1;
  } finally {
    await tandem.stop();
    await database.drop();
    await new Promise((resolve) => slackServer.close(resolve));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
