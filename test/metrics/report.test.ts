import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeBudgets, changes, deployments, incidents, type OutboxRow } from '../../src/db/schema';
import { reportTopic } from '../../src/metrics/report';
import { TestClock } from '../support/clock';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWN]
  search: {}
report: { channel: C0DELIVERY, cron: "0 9 * * 1", timezone: UTC }
`;

/** Two weeks of payments: the week before was clean; last week a change failed and caused an incident. */
async function seed(t: Harness) {
  const { db } = t.database.handle;
  const at = (iso: string) => new Date(iso);
  const deploy = (finished: string, status: 'success' | 'failure' = 'success', unplanned = false) => ({
    service: 'payments',
    unplanned,
    environment: 'production',
    status,
    finishedAt: at(finished),
    committedAt: new Date(at(finished).getTime() - 7_200_000),
    reportedBy: 'api:ci',
    createdAt: at(finished),
  });
  await db.insert(deployments).values([
    deploy('2026-11-10T10:00:00Z'),
    deploy('2026-11-12T10:00:00Z'),
    deploy('2026-11-17T10:00:00Z'),
    deploy('2026-11-18T10:00:00Z', 'success', true),
    deploy('2026-11-19T10:00:00Z', 'failure'),
  ]);
  await db.insert(changes).values({
    service: 'payments',
    title: 'Enable 3DS v2',
    type: 'normal',
    risk: 'medium',
    environment: 'production',
    requestedBy: 'U0DEV',
    requestedAt: at('2026-11-17T08:00:00Z'),
    sprint: '2026-11-09',
    status: 'failed',
    failedAt: at('2026-11-19T10:00:00Z'),
    failureReason: 'the production deployment failed',
    updatedAt: at('2026-11-19T10:00:00Z'),
  });
  await db.insert(incidents).values({
    title: 'Card payments declined',
    service: 'payments',
    severity: 2,
    declaredBy: 'U0DEV',
    declaredAt: at('2026-11-19T10:05:00Z'),
    status: 'resolved',
    resolvedAt: at('2026-11-19T10:50:00Z'),
    updatedAt: at('2026-11-19T10:50:00Z'),
  });
  await db.insert(changeBudgets).values({
    service: 'payments',
    sprint: '2026-11-23',
    budget: 8,
    previousBudget: 10,
    reason: 'success rate fell from 100% to 75%: budget 10 → 8',
    setAt: at('2026-11-22T12:00:00Z'),
  });
}

describe('continual-improvement report', () => {
  let t: Harness;
  beforeAll(async () => {
    // Start before Monday 09:00: the start-up run finds nothing to report for the week before.
    t = await startHarness({ catalog, clock: new TestClock('2026-11-23T08:00:00Z') });
    await t.idle();
    await seed(t);
  });
  afterAll(() => t.stop());

  const reports = () => t.slack.messagesIn('C0DELIVERY').filter((message) => !message.threadTs);

  it('posts each active service’s week against the one before, what moved, why, and the budget change', async () => {
    expect(reports()).toHaveLength(0);
    t.clock.set('2026-11-23T09:30:00Z');
    await t.tandem.scheduler.run('improvement-report');
    await t.idle();
    expect(reports()).toHaveLength(1);
    const text = JSON.stringify(reports()[0]!.blocks);
    expect(text).toContain('Continual improvement · payments');
    expect(text).toContain('*Deployments* 2 · ⚪ steady');
    expect(text).toContain('*Change failure rate* 33.3% · 🔴 worse than 0% · 🟢 elite → 🔴 low');
    expect(text).toContain('*Deployment rework rate* 33.3% · 🔴 worse than 0% (1 unplanned of 3)');
    expect(text).toContain('💥 *CHG-1* Enable 3DS v2: the production deployment failed');
    expect(text).toContain('🔥 *INC-1* Card payments declined (SEV2, restored in 45m)');
    expect(text).toContain('success rate fell from 100% to 75%: budget 10 → 8');
    expect(text).toContain('*Act* Review CHG-1 at the next retrospective.');
  });

  it('attaches a trend chart as a PNG in the thread', async () => {
    const [report] = reports();
    const thread = t.slack.messagesIn('C0DELIVERY').filter((message) => message.threadTs === report!.ts);
    expect(thread).toHaveLength(1);
    const [file] = thread[0]!.files!;
    expect(file!.name).toBe('payments-trend.png');
    expect(file!.bytes!.subarray(1, 4).toString('ascii')).toBe('PNG');
  });

  it('posts once per period, however often the job runs', async () => {
    await t.tandem.scheduler.run('improvement-report');
    t.clock.advance(3_600_000);
    await t.tandem.scheduler.run('improvement-report');
    await t.idle();
    expect(reports()).toHaveLength(1);
  });

  it.skipIf(!inject('postgres'))('posts once with two instances running the job at the same moment', async () => {
    const other = await startHarness({ alongside: t });
    try {
      t.clock.set('2026-11-30T09:01:00Z');
      await t.database.handle.db.insert(deployments).values({
        service: 'payments',
        environment: 'production',
        status: 'success',
        finishedAt: new Date('2026-11-25T10:00:00Z'),
        reportedBy: 'api:ci',
        createdAt: new Date('2026-11-25T10:00:00Z'),
      });
      await Promise.all([t.tandem.scheduler.run('improvement-report'), other.tandem.scheduler.run('improvement-report')]);
      await Promise.all([t.idle(), other.idle()]);
      expect(reports()).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });
});

describe('the report’s outbox payload', () => {
  it('comes back to the chart with its period, for rows queued before typed topics too', async () => {
    const seen: unknown[] = [];
    const [, handler] = reportTopic.handler({ sent: async (report) => void seen.push(report) });
    const queued = reportTopic.message({ service: 'payments', to: new Date('2026-11-23T09:00:00Z'), periodMs: 604_800_000 }, { method: 'chat.postMessage', args: {} });
    const legacy = '{"service":"search","to":"2026-11-30T09:00:00.000Z","periodMs":604800000}';
    for (const ref of [queued.ref!, legacy, 'not a report']) await handler.sent!({ ref } as OutboxRow, { ok: true });
    expect(seen).toEqual([
      { service: 'payments', to: new Date('2026-11-23T09:00:00Z'), periodMs: 604_800_000 },
      { service: 'search', to: new Date('2026-11-30T09:00:00Z'), periodMs: 604_800_000 },
    ]);
  });
});
