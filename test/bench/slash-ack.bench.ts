import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startSandboxSlack } from '../../src/fake-slack';
import { cpuSecondsOf, freePort, postgresReachable, printTable, scratchDatabase, startTimed, stopProcess } from './support';

/**
 * Slash-command ack: signed `/tandem help` and `/change list` requests, each with its
 * own trigger_id (so none is dropped as a retry), against a bare Bolt app that acks at
 * once and against Tandem (`node dist/main.js` on PostgreSQL), at a fixed 200 req/s and
 * flat out. Figures: p50/p99 of the ack, throughput, and the server's CPU over the run.
 * Aims: `/change list` p99 ≤ 2× bare Bolt at 200 req/s; max throughput ≥ 25 % of bare Bolt's.
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const secret = 'bench-signing-secret';
const root = new URL('../..', import.meta.url).pathname;

function signedCommand(command: string, text: string, responseUrl: string, counter: { next: number }) {
  return (request: Record<string, unknown>) => {
    counter.next += 1;
    const body = new URLSearchParams({
      token: 'x',
      team_id: 'T0BENCH',
      api_app_id: 'A0BENCH',
      user_id: 'U0ANN',
      user_name: 'ann',
      channel_id: 'C0BENCH',
      command,
      text,
      response_url: responseUrl,
      trigger_id: `${process.pid}.${counter.next}.${Math.random().toString(36).slice(2)}`,
    }).toString();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    return {
      ...request,
      method: 'POST',
      path: '/slack/events',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature },
    };
  };
}

export async function run(): Promise<void> {
  if (!(await postgresReachable())) {
    console.log('slash-command ack: skipped, PostgreSQL is not reachable (set TEST_DATABASE_URL)');
    return;
  }
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  const fake = await startSandboxSlack();
  // Where Tandem's replies after the ack go: answered at once, kept nowhere.
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const responseUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/response`;
  const work = mkdtempSync(path.join(tmpdir(), 'tandem-bench-ack-'));
  const catalog = path.join(work, 'tandem.yaml');
  writeFileSync(catalog, 'services:\n  payments:\n    approvers: { users: [U0ANN] }\n');
  const database = await scratchDatabase(`tandem_bench_ack_${process.pid}`);
  const env = { SLACK_BOT_TOKEN: fake.slack.botToken, SLACK_SIGNING_SECRET: secret, SLACK_API_URL: fake.slack.apiUrl };
  const children = [];
  try {
    const barePort = await freePort();
    const bare = await startTimed(['test/bench/bare-bolt-server.mjs'], { ...env, PORT: String(barePort) }, `http://127.0.0.1:${barePort}/ready`);
    children.push(bare.child);
    const tandemPort = await freePort();
    const tandem = await startTimed(
      ['dist/main.js'],
      { ...env, PORT: String(tandemPort), DATABASE_URL: database.url, TANDEM_CATALOG: catalog, LOG_LEVEL: 'warn' },
      `http://127.0.0.1:${tandemPort}/readyz`,
    );
    children.push(tandem.child);
    const counter = { next: 0 };
    const measure = async (port: number, pid: number, command: string, text: string, rate?: number) => {
      const cpuBefore = cpuSecondsOf(pid);
      const result = await autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: rate ? 20 : 50,
        duration: seconds,
        ...(rate ? { overallRate: rate } : {}),
        requests: [{ setupRequest: signedCommand(command, text, responseUrl, counter) as never }],
      });
      const cpu = (cpuSecondsOf(pid) - cpuBefore) / seconds;
      return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpu, bad: result.errors + result.non2xx };
    };
    const targets = [
      { name: 'bare Bolt /tandem help', port: barePort, pid: bare.child.pid!, command: '/tandem', text: 'help' },
      { name: 'bare Bolt /change list', port: barePort, pid: bare.child.pid!, command: '/change', text: 'list' },
      { name: 'Tandem /tandem help', port: tandemPort, pid: tandem.child.pid!, command: '/tandem', text: 'help' },
      { name: 'Tandem /change list', port: tandemPort, pid: tandem.child.pid!, command: '/change', text: 'list' },
    ];
    for (const target of targets) await measure(target.port, target.pid, target.command, target.text, 100); // warm-up
    const rows: Array<Array<string | number>> = [];
    const figures: Record<string, { fixed: Awaited<ReturnType<typeof measure>>; max: Awaited<ReturnType<typeof measure>> }> = {};
    for (const target of targets) {
      const fixed = await measure(target.port, target.pid, target.command, target.text, 200);
      const max = await measure(target.port, target.pid, target.command, target.text);
      figures[target.name] = { fixed, max };
      rows.push([target.name, fixed.p50, fixed.p99, `${(fixed.cpu * 100).toFixed(0)} %`, Math.round(max.rps), max.p99, fixed.bad + max.bad]);
    }
    printTable(
      `Slash-command ack, signed, own trigger_id each; ${seconds} s per run`,
      ['server', 'p50 ms @200/s', 'p99 ms @200/s', 'CPU @200/s', 'max req/s', 'p99 ms @max', 'errors/non-2xx'],
      rows,
    );
    const bareList = figures['bare Bolt /change list']!;
    const ours = figures['Tandem /change list']!;
    const p99Ratio = ours.fixed.p99 / Math.max(bareList.fixed.p99, 1);
    const rpsRatio = ours.max.rps / bareList.max.rps;
    console.log(`/change list p99 at 200 req/s: ${p99Ratio.toFixed(2)}× bare Bolt (aim ≤ 2×): ${p99Ratio <= 2 ? 'met' : 'MISSED'}`);
    console.log(`/change list max throughput: ${(rpsRatio * 100).toFixed(0)} % of bare Bolt (aim ≥ 25 %): ${rpsRatio >= 0.25 ? 'met' : 'MISSED'}`);
  } finally {
    for (const child of children) await stopProcess(child);
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    await fake.close();
    await database.drop();
    rmSync(work, { recursive: true, force: true });
  }
}
