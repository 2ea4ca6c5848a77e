/**
 * Benchmark: one sprint digest fanned out to many subscribed customer channels,
 * through Tandem's real outbox worker, against a fake Slack over real HTTP that
 * enforces Slack's posting limits with 429 + Retry-After.
 *
 *   BENCH_CHANNELS=1000 BENCH_WORKSPACE_RATE=50 BENCH_PER_CHANNEL_RATE=1 npm run bench -- digest
 *
 * Uses a scratch PostgreSQL database (TEST_DATABASE_URL, else the local server) it drops afterwards.
 */
import type { AddressInfo } from 'node:net';
import { createApiToken } from '../../src/api/tokens';
import { parseCatalog } from '../../src/catalog';
import type { Config } from '../../src/config';
import { openDatabase } from '../../src/db/client';
import { digestSubscriptions, slackOutbox } from '../../src/db/schema';
import { createLogger } from '../../src/log';
import { createFakeSlackServer, FakeSlack } from '../../src/fake-slack';
import { startTandem } from '../../src/tandem';
import { systemClock } from '../../src/time';
import { postgresReachable, printTable, scratchDatabase } from './support';

const channels = Number(process.env.BENCH_CHANNELS ?? 1000);
const workspaceRate = Number(process.env.BENCH_WORKSPACE_RATE ?? 50);
const perChannelRate = Number(process.env.BENCH_PER_CHANNEL_RATE ?? 1);
const timeoutMs = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 300) * 1000;

export async function run(): Promise<void> {
  if (!(await postgresReachable())) {
    console.log('digest fan-out: skipped, PostgreSQL is not reachable (set TEST_DATABASE_URL)');
    return;
  }
  const channelIds = Array.from({ length: channels }, (_, index) => `C0BENCH${String(index).padStart(5, '0')}`);
  let slack: FakeSlack | undefined;
  const slackServer = createFakeSlackServer(() => slack!);
  await new Promise<void>((resolve) => slackServer.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(slackServer.address() as AddressInfo).port}`;
  slack = new FakeSlack({ origin, postingLimits: { perChannelPerSecond: perChannelRate, workspacePerSecond: workspaceRate } });
  for (const id of channelIds) slack.addChannel({ id, name: id.toLowerCase() });

  const catalog = parseCatalog(`services:\n  acme:\n    owners: [U0OWNER]\n    channels:\n      customers: [${channelIds.join(', ')}]\n`);
  const scratch = await scratchDatabase(`tandem_bench_digest_${process.pid}`);
  const handle = await openDatabase({ url: scratch.url, dataDir: '' });
  await handle.migrate();
  const config: Config = {
    database: { url: scratch.url, dataDir: '' },
    slack: { botToken: slack.botToken, signingSecret: 'bench', appToken: undefined, apiUrl: slack.apiUrl },
    port: 0,
    catalogPath: undefined,
    timeZone: 'UTC',
    migrateOnStart: false,
    logLevel: 'silent',
  };
  const tandem = await startTandem({ config, catalog, logger: createLogger('silent'), database: handle });
  try {
    const { db } = handle;
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
      ['database', 'PostgreSQL (scratch database)'],
      ['total time', `${(elapsedMs / 1000).toFixed(2)} s`],
      ['theoretical minimum', `${(minimumMs / 1000).toFixed(2)} s  ((${channels} − ${workspaceRate} burst) / ${workspaceRate} per s)`],
      ['messages posted', `${slack.messages.length} of ${channels}`],
      ['429 answers (each one a retry)', String(slack.postingLimits!.refused)],
      ['Slack calls per message', (attempts / Math.max(1, rows.length)).toFixed(2)],
      ['duplicates', String(duplicates)],
    ];
    printTable('Digest fan-out', ['figure', 'value'], table);
    if (duplicates > 0 || slack.messages.length < channels) process.exitCode = 1;
  } finally {
    await tandem.stop();
    await handle.close();
    await scratch.drop();
    await new Promise((resolve) => slackServer.close(resolve));
  }
}
