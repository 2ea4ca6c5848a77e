import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhooks } from '@octokit/webhooks';
import { generateKeyPairSync } from 'node:crypto';
import { parseCatalog } from '../../src/catalog';
import type { Config } from '../../src/config';
import { openDatabase } from '../../src/db/client';
import { changes } from '../../src/db/schema';
import { FakeGitHub, type RecordedCallback, signedWebhook, startFakeGitHub } from '../../src/fake-github';
import { createFakeSlackServer, FakeSlack } from '../../src/fake-slack';
import { createLogger } from '../../src/log';
import { startTandem } from '../../src/tandem';
import { freePort, percentile, postgresReachable, printTable, scratchDatabase } from './support';

/**
 * The GitHub gate: webhook → decision callback latency for a standard change the
 * policy approves (sequential runs against the stand-in GitHub), and the webhook's
 * acknowledgement time under 50 concurrent deliveries, next to a bare node:http
 * server that verifies the same signatures and answers, in the same run.
 */
const runs = Number(process.env.BENCH_GITHUB_RUNS ?? 500);
const concurrency = 50;
const ackRounds = Number(process.env.BENCH_GITHUB_ACK_ROUNDS ?? 10);
const secret = 'bench-webhook-secret';
const appId = '4242';
const repo = 'acme/payments-api';

const catalogText = `
services:
  payments:
    approvers: { users: [U0ANN] }
    policy: { budget: { initial: 100000, min: 2, max: 100000, step: 2 } }
    github: { repositories: [${repo}], standard_environments: [staging] }
`;

const ms = (value: number) => value.toFixed(1);

export async function run(): Promise<void> {
  if (!(await postgresReachable())) {
    console.log('github gate: skipped, PostgreSQL is not reachable (set TEST_DATABASE_URL)');
    return;
  }
  const database = await scratchDatabase(`tandem_bench_github_${process.pid}`);
  const slackPort = await freePort();
  let slack: FakeSlack | undefined;
  const slackServer: Server = createFakeSlackServer(() => slack!);
  await new Promise<void>((resolve) => slackServer.listen(slackPort, '127.0.0.1', resolve));
  slack = new FakeSlack({ origin: `http://127.0.0.1:${slackPort}` });
  slack.addUser({ id: 'U0ANN', name: 'ann' });

  const now = new Date('2026-11-23T09:00:00Z');
  const clock = { now: () => new Date(now) };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const github = new FakeGitHub({ appId, privateKey, now: () => clock.now().getTime() });
  github.addRepository(repo, 77);
  const fake = await startFakeGitHub(github);
  const handle = await openDatabase({ url: database.url, dataDir: '' });
  await handle.migrate();
  // A track record the policy trusts: two earlier sprints of deployed changes.
  const history = ['2026-11-09', '2026-10-26'].flatMap((sprint) =>
    Array.from({ length: 5 }, (_, index) => {
      const at = new Date(`${sprint}T12:00:00Z`);
      return { service: 'payments', title: `ok ${index}`, type: 'normal' as const, risk: 'medium' as const, environment: 'production', requestedBy: 'U0DEV', requestedAt: at, sprint, status: 'deployed' as const, deployedAt: at, updatedAt: at };
    }),
  );
  await handle.db.insert(changes).values(history);

  const config: Config = {
    database: { url: database.url, dataDir: '' },
    slack: { botToken: slack.botToken, signingSecret: 'bench', appToken: undefined, apiUrl: slack.apiUrl },
    port: 0,
    catalogPath: undefined,
    timeZone: 'UTC',
    migrateOnStart: false,
    logLevel: 'warn',
    github: { appId, privateKey, webhookSecret: secret, apiUrl: fake.apiUrl },
  };
  const tandem = await startTandem({ config, catalog: parseCatalog(catalogText), logger: createLogger('warn'), clock, database: handle });
  const webhookUrl = `http://127.0.0.1:${tandem.port}/github/webhooks`;
  const signatures = new Webhooks({ secret });
  const bare = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const ok = await signatures.verify(Buffer.concat(chunks).toString('utf8'), String(req.headers['x-hub-signature-256'] ?? '')).catch(() => false);
      res.writeHead(ok ? 202 : 401, { 'content-type': 'application/json' });
      res.end(ok ? '{"status":"accepted"}' : '{}');
    });
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/github/webhooks`;

  const deliver = async (url: string, payload: unknown) => {
    const { body, headers } = await signedWebhook(secret, 'deployment_protection_rule', payload);
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers, body });
    await response.text();
    if (response.status !== 202) throw new Error(`webhook answered ${response.status}`);
    return performance.now() - started;
  };
  const decisionOf = (runId: number) =>
    new Promise<RecordedCallback>((resolve) => {
      const listener = (call: RecordedCallback) => {
        if (call.runId === runId && call.body.state) {
          github.events.off('callback', listener);
          resolve(call);
        }
      };
      github.events.on('callback', listener);
    });

  try {
    if (process.env.BENCH_DEBUG) github.events.on('callback', (call: RecordedCallback) => console.log(JSON.stringify(call)));
    // Warm-up: the first token, JIT and connection pools.
    for (let index = 0; index < 20; index += 1) {
      const warm = github.addRun(repo, { waiting: ['staging'] });
      const decided = decisionOf(warm.id);
      await deliver(webhookUrl, github.protectionRuleRequested(repo, warm, 'staging', fake.apiUrl));
      await decided;
    }
    const latencies: number[] = [];
    let approved = 0;
    for (let index = 0; index < runs; index += 1) {
      const gated = github.addRun(repo, { waiting: ['staging'] });
      const decided = decisionOf(gated.id);
      const started = performance.now();
      await deliver(webhookUrl, github.protectionRuleRequested(repo, gated, 'staging', fake.apiUrl));
      const call = await decided;
      latencies.push(performance.now() - started);
      if (call.body.state === 'approved') approved += 1;
    }
    await tandem.idle();

    const acks = async (url: string) => {
      const times: number[] = [];
      for (let round = 0; round < ackRounds; round += 1) {
        const payloads = Array.from({ length: concurrency }, () => github.protectionRuleRequested(repo, github.addRun(repo, { waiting: ['staging'] }), 'staging', fake.apiUrl));
        times.push(...(await Promise.all(payloads.map((payload) => deliver(url, payload)))));
      }
      return times;
    };
    const bareAcks = await acks(bareUrl);
    const tandemAcks = await acks(webhookUrl);
    await tandem.idle();

    printTable(`GitHub gate: webhook → callback for a standard change approved by policy (${runs} sequential runs, ${approved} approved)`, ['p50 ms', 'p99 ms', 'max ms'], [
      [ms(percentile(latencies, 0.5)), ms(percentile(latencies, 0.99)), ms(Math.max(...latencies))],
    ]);
    printTable(`GitHub webhook acknowledgement, ${concurrency} concurrent deliveries × ${ackRounds} rounds`, ['server', 'p50 ms', 'p99 ms', 'max ms'], [
      ['bare node:http + verify()', ms(percentile(bareAcks, 0.5)), ms(percentile(bareAcks, 0.99)), ms(Math.max(...bareAcks))],
      ['Tandem POST /github/webhooks', ms(percentile(tandemAcks, 0.5)), ms(percentile(tandemAcks, 0.99)), ms(Math.max(...tandemAcks))],
    ]);
  } finally {
    await tandem.stop();
    await new Promise((resolve) => bare.close(resolve));
    await fake.close();
    await handle.close();
    await new Promise((resolve) => slackServer.close(resolve));
    await database.drop();
  }
}
