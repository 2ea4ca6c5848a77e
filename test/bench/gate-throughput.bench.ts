import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiToken } from '../../src/api/tokens';
import { openDatabase } from '../../src/db/client';
import { createFakeSlackServer, FakeSlack } from '../../src/fake-slack';
import { systemClock } from '../../src/time';
import { freePort, load, postgresReachable, printTable, scratchDatabase, startProcess } from './support';

/**
 * Gate throughput: GET /api/v1/changes/:id on the real Tandem server and PostgreSQL,
 * next to a bare node:http + postgres.js server doing the same single-row lookup,
 * measured in the same run. Aims: at least 70% of the baseline's throughput, and
 * p99 under 20 ms, at 50 concurrent clients.
 */
const connections = 50;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);

export async function run(): Promise<void> {
  if (!(await postgresReachable())) {
    console.log('gate throughput: skipped, PostgreSQL is not reachable (set TEST_DATABASE_URL)');
    return;
  }
  const database = await scratchDatabase(`tandem_bench_gate_${process.pid}`);
  const slackPort = await freePort();
  let slack: FakeSlack | undefined;
  const slackServer: Server = createFakeSlackServer(() => slack!);
  await new Promise<void>((resolve) => slackServer.listen(slackPort, '127.0.0.1', resolve));
  slack = new FakeSlack({ origin: `http://127.0.0.1:${slackPort}` });

  const catalog = path.join(mkdtempSync(path.join(tmpdir(), 'tandem-bench-')), 'tandem.yaml');
  writeFileSync(catalog, 'services:\n  payments:\n    approvers: { users: [U0ANN] }\n');
  const tandemPort = await freePort();
  const barePort = await freePort();
  const children = [];
  try {
    const tandem = await startProcess(
      'src/main.ts',
      {
        DATABASE_URL: database.url,
        PORT: String(tandemPort),
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: 'bench',
        SLACK_API_URL: slack.apiUrl,
        TANDEM_CATALOG: catalog,
        LOG_LEVEL: 'warn',
      },
      `http://127.0.0.1:${tandemPort}/readyz`,
    );
    children.push(tandem);
    const handle = await openDatabase({ url: database.url, dataDir: '' });
    const { token } = await createApiToken(handle.db, systemClock, { name: 'bench', scopes: ['changes:write', 'read'] });
    await handle.close();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`http://127.0.0.1:${tandemPort}/api/v1/changes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ service: 'payments', title: 'Benchmark change', type: 'normal', environment: 'production' }),
    });
    const change = (await created.json()) as { id: string };
    children.push(await startProcess('test/bench/bare-gate-server.ts', { DATABASE_URL: database.url, PORT: String(barePort) }, `http://127.0.0.1:${barePort}/ready`));

    const targets = {
      'bare node:http + postgres.js': `http://127.0.0.1:${barePort}/changes/${change.id}`,
      'tandem GET /api/v1/changes/:id': `http://127.0.0.1:${tandemPort}/api/v1/changes/${change.id}`,
    };
    // Warm both up (JIT, connection pools, the token cache), then measure each twice, interleaved.
    for (const url of Object.values(targets)) await load(url, headers, connections, 2);
    const results: Record<string, Array<Awaited<ReturnType<typeof load>>>> = {};
    for (let round = 0; round < 2; round += 1) {
      for (const [name, url] of Object.entries(targets)) (results[name] ??= []).push(await load(url, headers, connections, seconds));
    }
    const best = (name: string) => results[name]!.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
    const bare = best('bare node:http + postgres.js');
    const ours = best('tandem GET /api/v1/changes/:id');
    printTable(
      `Gate throughput, ${connections} concurrent clients, ${seconds} s per run, best of 2`,
      ['server', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx'],
      Object.keys(targets).map((name) => {
        const result = best(name);
        return [name, Math.round(result.requestsPerSecond), result.p50, result.p99, result.errors, result.non2xx];
      }),
    );
    const ratio = ours.requestsPerSecond / bare.requestsPerSecond;
    console.log(`tandem / baseline throughput: ${(ratio * 100).toFixed(1)}% (aim ≥ 70%): ${ratio >= 0.7 ? 'met' : 'MISSED'}`);
    console.log(`tandem p99: ${ours.p99} ms (aim < 20 ms): ${ours.p99 < 20 ? 'met' : 'MISSED'}`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise<void>((resolve) => slackServer.close(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await database.drop();
  }
}
