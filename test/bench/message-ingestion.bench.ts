import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { createApiToken } from '../../src/api/tokens';
import { openDatabase } from '../../src/db/client';
import { createFakeSlackServer, FakeSlack, signSlackRequest } from '../../src/fake-slack';
import { systemClock } from '../../src/time';
import { freePort, postgresReachable, printTable, scratchDatabase, startProcess } from './support';

/**
 * Message-event ingestion: a busy incident channel (50 people, 10,000 messages and
 * some timeline reactions) delivered to the real Tandem process as signed Events API
 * requests, 50 at a time. Measured: the ack latency of every event, and how many
 * messages per second end up stored (acked and written); next to a bare Bolt app
 * acknowledging the same signed events in the same run.
 */
const people = 50;
const messages = Number(process.env.BENCH_MESSAGES ?? 10_000);
const concurrency = 50;
const secret = 'bench';

export async function run(): Promise<void> {
  if (!(await postgresReachable())) {
    console.log('message ingestion: skipped, PostgreSQL is not reachable (set TEST_DATABASE_URL)');
    return;
  }
  const database = await scratchDatabase(`tandem_bench_ingest_${process.pid}`);
  const slackPort = await freePort();
  let slack: FakeSlack | undefined;
  const slackServer: Server = createFakeSlackServer(() => slack!);
  await new Promise<void>((resolve) => slackServer.listen(slackPort, '127.0.0.1', resolve));
  slack = new FakeSlack({ origin: `http://127.0.0.1:${slackPort}` });
  const users = Array.from({ length: people }, (_, i) => slack!.addUser({ id: `U0P${String(i).padStart(4, '0')}`, name: `person${i}` }).id);

  const catalog = path.join(mkdtempSync(path.join(tmpdir(), 'tandem-bench-')), 'tandem.yaml');
  writeFileSync(catalog, `services:\n  payments:\n    owners: [${users.join(', ')}]\n`);
  const tandemPort = await freePort();
  const barePort = await freePort();
  const children = [];
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  try {
    children.push(
      await startProcess(
        'src/main.ts',
        {
          DATABASE_URL: database.url,
          PORT: String(tandemPort),
          SLACK_BOT_TOKEN: slack.botToken,
          SLACK_SIGNING_SECRET: secret,
          SLACK_API_URL: slack.apiUrl,
          TANDEM_CATALOG: catalog,
          LOG_LEVEL: 'warn',
        },
        `http://127.0.0.1:${tandemPort}/readyz`,
      ),
    );
    children.push(await startProcess('test/bench/bare-bolt-server.ts', { PORT: String(barePort), SLACK_SIGNING_SECRET: secret }, `http://127.0.0.1:${barePort}/ready`));

    // The incident and its channel, declared as a monitoring tool would.
    const handle = await openDatabase({ url: database.url, dataDir: '' });
    const { token } = await createApiToken(handle.db, systemClock, { name: 'bench', scopes: ['incidents:write'] });
    await handle.close();
    await fetch(`http://127.0.0.1:${tandemPort}/api/v1/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Checkout returns 500s', service: 'payments', severity: 1 }),
    });
    let channel: string | undefined;
    for (let attempt = 0; attempt < 200 && !channel; attempt += 1) {
      [{ channel_id: channel } = { channel_id: undefined }] = await sql`select channel_id from incidents where channel_id is not null`;
      if (!channel) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!channel) throw new Error('the incident channel was never created');

    const posted = Array.from({ length: messages }, (_, i) => slack!.post(channel!, { text: `update ${i}: error rate ${i % 100}%`, user: users[i % people]! }));
    const events: string[] = [];
    for (const [i, message] of posted.entries()) {
      events.push(envelope({ type: 'message', channel, channel_type: 'channel', user: message.user, text: message.text, ts: message.ts, event_ts: message.ts }));
      // Every 20th message, someone marks one from a while back.
      if (i % 20 === 19 && i >= 200) {
        const target = posted[i - 200]!;
        events.push(
          envelope({ type: 'reaction_added', user: users[(i * 7) % people], reaction: 'pushpin', item_user: target.user, item: { type: 'message', channel, ts: target.ts }, event_ts: `${Date.now() / 1000}` }),
        );
      }
    }

    const warmUp = events.slice(0, 200).map(() => envelope({ type: 'message', channel: 'C0ELSEWHERE', user: users[0], text: 'warm-up', ts: '1.000001' }));
    for (const port of [barePort, tandemPort]) await deliver(`http://127.0.0.1:${port}/slack/events`, warmUp);

    const bare = await deliver(`http://127.0.0.1:${barePort}/slack/events`, events);
    const started = performance.now();
    const ours = await deliver(`http://127.0.0.1:${tandemPort}/slack/events`, events);
    // Until every message is in, or nothing more arrived for 5 s.
    let stored = 0;
    let storedSeconds = 0;
    for (let quiet = 0; quiet < 100 && stored < messages; ) {
      const [row] = await sql<Array<{ count: number }>>`select count(*)::int as count from incident_messages`;
      const count = row?.count ?? 0;
      if (count > stored) {
        stored = count;
        storedSeconds = (performance.now() - started) / 1000;
        quiet = 0;
      } else quiet += 1;
      if (stored < messages) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [markedRow] = await sql<Array<{ count: number }>>`select count(distinct ts)::int as count from incident_message_marks`;
    const marked = markedRow?.count ?? 0;

    printTable(
      `Message ingestion: ${messages} messages and ${events.length - messages} reactions from ${people} people, ${concurrency} in flight`,
      ['server', 'events/s acked', 'ack p50 ms', 'ack p99 ms', 'non-2xx', 'messages/s stored'],
      [
        ['bare Bolt app (acks only)', Math.round(bare.perSecond), bare.p50.toFixed(1), bare.p99.toFixed(1), bare.non2xx, '—'],
        ['tandem', Math.round(ours.perSecond), ours.p50.toFixed(1), ours.p99.toFixed(1), ours.non2xx, Math.round(stored / storedSeconds)],
      ],
    );
    console.log(`stored ${stored}/${messages} messages in ${storedSeconds.toFixed(1)} s; ${marked} on the timeline (${events.length - messages} reactions, each on its own message)`);
    console.log(`tandem / bare Bolt acked events per second: ${((ours.perSecond / bare.perSecond) * 100).toFixed(1)}%; ack p99 ratio ${(ours.p99 / bare.p99).toFixed(2)}×`);
  } finally {
    await sql.end({ timeout: 1 });
    for (const child of children) child.kill('SIGTERM');
    await new Promise<void>((resolve) => slackServer.close(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await database.drop();
  }
}

let eventNumber = 0;
function envelope(event: Record<string, unknown>): string {
  eventNumber += 1;
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: 'T0SANDBOX',
    api_app_id: 'A0TANDEMAPP',
    event,
    type: 'event_callback',
    event_id: `Ev${process.pid}x${eventNumber}`,
    event_time: Math.floor(Date.now() / 1000),
  });
}

/** Sends every body signed, `concurrency` at a time; returns throughput and ack latency. */
async function deliver(url: string, bodies: string[]): Promise<{ perSecond: number; p50: number; p99: number; non2xx: number }> {
  const latencies: number[] = [];
  let next = 0;
  let non2xx = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const timestamp = Math.floor(Date.now() / 1000);
      const sent = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signSlackRequest(secret, timestamp, body) },
        body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sent);
      if (response.status < 200 || response.status > 299) non2xx += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { perSecond: bodies.length / seconds, p50: at(0.5), p99: at(0.99), non2xx };
}
