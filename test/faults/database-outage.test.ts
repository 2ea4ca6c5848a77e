import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runGate } from '../../src/cli/gate';
import { incidents, slackDeliveries } from '../../src/db/schema';
import { isDatabaseUnavailable } from '../../src/db/unavailable';
import type { FakeMessage } from '../../src/fake-slack';
import { type Harness, startHarness } from '../support/harness';
import { TcpProxy } from './tcp-proxy';

const catalog = `
services:
  payments:
    owners: [U0ANN]
    approvers: { groups: [leads], quorum: 1 }
    channels: { incidents: C0INCIDENTS, approvals: C0APPROVALS }
groups:
  leads: [U0BEN]
`;

const databaseMessage = 'Tandem cannot reach its database right now, so nothing was changed. Please try again in a minute.';

const timed = async <T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> => {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
};

// PGlite runs inside the process and cannot become unreachable; only PostgreSQL can.
describe.skipIf(!inject('postgres'))('while the database is unreachable', () => {
  let t: Harness;
  let proxy: TcpProxy;
  let writer: string;
  beforeAll(async () => {
    const upstream = new URL(inject('postgres')!.adminUrl);
    proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    await proxy.start();
    t = await startHarness({
      catalog,
      databaseUrl: (url) => proxy.urlFor(url),
      workspace: (slack) => slack.addChannel({ id: 'C0GENERAL', name: 'general', members: ['U0ANN'] }),
    });
    writer = await t.token('incidents:write', 'read');
  });
  afterAll(async () => {
    await proxy.restore();
    await t.stop();
    await proxy.stop();
  });

  const apiCall = (token = writer) => timed(() => t.api('POST', '/incidents', { token, body: { title: 'Checkout is down', service: 'payments' } }));

  it.each(['hold', 'refuse'] as const)(
    'answers Slack within 3 s and the API with 503 + Retry-After, then works again (%s)',
    async (how) => {
      // Warm: the pool has open connections and the token is cached, as in production.
      expect((await apiCall()).result.status).toBe(201);
      await t.idle();
      const unseenToken = await t.token('read');

      await proxy.cut(how);
      const command = await timed(() => t.simulator.command('U0ANN', 'C0GENERAL', '/incident', 'Database outage test'));
      expect(command.result.status).toBe(200);
      expect(command.result.body).toMatchObject({ response_type: 'ephemeral', text: databaseMessage });
      expect(command.ms).toBeLessThan(3_000);
      // A read answered in the ack still answers in time, with what went wrong.
      const list = await timed(() => t.simulator.command('U0ANN', 'C0GENERAL', '/change', 'list'));
      expect(list.result.body).toMatchObject({ response_type: 'ephemeral', text: databaseMessage });
      expect(list.ms).toBeLessThan(3_000);

      for (const token of [writer, unseenToken]) {
        const answer = await apiCall(token);
        expect(answer.result.status).toBe(503);
        expect(answer.result.body.error.code).toBe('database_unavailable');
        expect(answer.result.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(answer.ms).toBeLessThan(5_000);
      }
      const ready = await timed(() => fetch(`${t.baseUrl}/readyz`));
      expect(ready.result.status).toBe(503);
      expect(ready.ms).toBeLessThan(3_000);

      await proxy.restore();
      const recovered = await timed(async () => {
        for (;;) {
          const answer = await fetch(`${t.baseUrl}/readyz`);
          if (answer.status === 200) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      });
      expect(recovered.ms).toBeLessThan(3_000);
      expect((await apiCall(unseenToken)).result.status).toBe(403);
      expect((await apiCall()).result.status).toBe(201);
      const declared = await t.simulator.command('U0ANN', 'C0GENERAL', '/incident', 'After the outage');
      expect(declared.status).toBe(200);
      await t.idle();
      const titles = (await t.database.handle.db.select({ title: incidents.title }).from(incidents)).map((row) => row.title);
      expect(titles).toContain('After the outage');
      expect(titles).not.toContain('Database outage test');
    },
    30_000,
  );

  it('fails a transaction whose connection is cut as unavailable, without taking the process down', async () => {
    const { db } = t.tandem.database;
    let reached = false;
    const transaction = db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      await proxy.cut('refuse');
      reached = true;
      await tx.execute(sql`select 2`);
    });
    const failure = await transaction.then(() => undefined, (error: unknown) => error);
    expect(reached).toBe(true);
    expect(isDatabaseUnavailable(failure)).toBe(true);
    // postgres.js 3.4.9 writes ROLLBACK to the closed socket on the next tick and throws outside any promise.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await proxy.restore();
    expect((await apiCall()).result.status).toBe(201);
  });

  it('never runs a statement once its caller was told the database is unreachable', async () => {
    const { db } = t.tandem.database;
    await proxy.cut('hold');
    // More statements than the pool has connections, so some wait in postgres.js's queue.
    const attempts = Array.from({ length: 15 }, (_, index) =>
      db
        .insert(slackDeliveries)
        .values({ key: `test:late-${index}`, receivedAt: t.clock.now() })
        .then(() => undefined, (error: unknown) => error),
    );
    const failures = await Promise.all(attempts);
    expect(failures.every(isDatabaseUnavailable)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await proxy.restore();
    expect((await apiCall()).result.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const late = await t.database.handle.db.select().from(slackDeliveries).where(sql`${slackDeliveries.key} like 'test:late-%'`);
    expect(late).toEqual([]);
  });

  it('lets a pipeline gate ride out the outage and get its decision once the database is back', async () => {
    const pipeline = await t.token('changes:write');
    await proxy.cut('refuse');
    const lines: string[] = [];
    const gate = runGate(
      { url: t.baseUrl, token: pipeline },
      { service: 'payments', environment: 'production', title: 'Deploy through the outage', type: 'normal', timeoutMs: 60_000 },
      { out: (line) => lines.push(line), now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await proxy.restore();
    let approval: FakeMessage | undefined;
    for (let attempt = 0; !approval && attempt < 100; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await t.idle();
      approval = t.slack.messagesIn('C0APPROVALS').find((message) => message.text.includes('Deploy through the outage'));
    }
    await t.simulator.click('U0BEN', { message: approval! }, 'change.approve');
    await t.idle();
    expect(await gate).toBe(0);
    expect(lines[0]).toMatch(/^tandem gate: Tandem could not answer \(503 database_unavailable\): .*; retrying in 5s$/);
    expect(lines.at(-1)).toMatch(/approved by U0BEN/);
  }, 30_000);
});
