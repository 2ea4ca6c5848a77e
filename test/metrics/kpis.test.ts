import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, deployments, incidents } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER]
  search: {}
`;

const at = (iso: string) => new Date(iso);

/**
 * A hand-worked week for payments (2026-11-16 to 2026-11-22, UTC):
 * - production deploys: 4 successes (lead times 1h, 2h, 3h, 10h: median 2.5 h,
 *   p90 7.9 h by linear interpolation) and 1 failure;
 *   one success belongs to a change that later caused an incident → 2 failed of 5;
 *   a staging deploy that does not count;
 * - incidents resolved in the week: 30 min (SEV2) and 90 min (SEV1) → median 60 min;
 *   one incident without a linked change, still open;
 * - change outcomes: 2 deployed and settled (> 48 h before now), 1 failed.
 */
async function seed(t: Harness) {
  const { db } = t.database.handle;
  const change = (title: string, status: 'deployed' | 'failed', when: string) => ({
    service: 'payments',
    title,
    type: 'normal' as const,
    risk: 'medium' as const,
    environment: 'production',
    requestedBy: 'U0DEV',
    requestedAt: at(when),
    sprint: '2026-11-09',
    status,
    updatedAt: at(when),
    ...(status === 'deployed' ? { deployedAt: at(when) } : { failedAt: at(when), failureReason: 'caused INC-1' }),
  });
  const [ok1, ok2, bad] = await db
    .insert(changes)
    .values([change('ok one', 'deployed', '2026-11-17T10:00:00Z'), change('ok two', 'deployed', '2026-11-18T10:00:00Z'), change('bad', 'failed', '2026-11-19T10:00:00Z')])
    .returning();
  const deploy = (finished: string, lead: number | null, status: 'success' | 'failure' = 'success', changeId?: string, environment = 'production') => ({
    service: 'payments',
    environment,
    status,
    changeId: changeId ?? null,
    finishedAt: at(finished),
    committedAt: lead === null ? null : new Date(at(finished).getTime() - lead * 3_600_000),
    reportedBy: 'api:ci',
    createdAt: at(finished),
  });
  await db.insert(deployments).values([
    deploy('2026-11-16T12:00:00Z', 1, 'success', ok1!.id),
    deploy('2026-11-17T12:00:00Z', 2, 'success', ok2!.id),
    deploy('2026-11-18T12:00:00Z', 3, 'success', bad!.id),
    deploy('2026-11-19T12:00:00Z', 10),
    deploy('2026-11-20T12:00:00Z', null, 'failure'),
    deploy('2026-11-20T13:00:00Z', 1, 'success', undefined, 'staging'),
    // Outside the window: the day before.
    deploy('2026-11-15T23:59:59Z', 100),
  ]);
  const incident = (number: string, severity: number, declared: string, minutes: number | null) => ({
    title: `incident ${number}`,
    service: 'payments',
    severity,
    declaredBy: 'U0DEV',
    declaredAt: at(declared),
    status: minutes === null ? ('investigating' as const) : ('resolved' as const),
    resolvedAt: minutes === null ? null : new Date(at(declared).getTime() + minutes * 60_000),
    updatedAt: at(declared),
  });
  await db.insert(incidents).values([
    incident('a', 2, '2026-11-17T08:00:00Z', 30),
    incident('b', 1, '2026-11-19T08:00:00Z', 90),
    incident('c', 3, '2026-11-21T08:00:00Z', null),
  ]);
}

describe('delivery KPIs', () => {
  let t: Harness;
  let reader: string;
  beforeAll(async () => {
    t = await startHarness({ catalog, workspace: (slack) => slack.addUser({ id: 'U0DEV', name: 'dev' }) });
    reader = await t.token('read');
    await seed(t);
  });
  afterAll(() => t.stop());

  const dora = (query: string) => t.api('GET', `/metrics/dora${query}`, { token: reader });

  it('matches the hand-worked week for a service', async () => {
    const answer = await dora('?service=payments&from=2026-11-16&to=2026-11-22');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      service: 'payments',
      from: '2026-11-16T00:00:00.000Z',
      to: '2026-11-23T00:00:00.000Z',
      deployment_frequency: { per_day: 0.571, deployments: 4, band: 'high' },
      // percentile_cont interpolates: p90 of 1 h, 2 h, 3 h, 10 h is 3 h + 0.7 × 7 h.
      lead_time: { median_seconds: 9000, p90_seconds: 28440, band: 'elite' },
      change_failure_rate: { rate: 0.4, failed: 2, total: 5, band: 'low' },
      time_to_restore: { median_seconds: 3600, incidents: 2, band: 'high' },
      change_success_rate: { rate: 2 / 3, succeeded: 2, total: 3 },
    });
    expect(answer.body.incidents_by_severity).toEqual([
      { severity: 1, declared: 1, resolved: 1, median_restore_seconds: 5400, mean_restore_seconds: 5400 },
      { severity: 2, declared: 1, resolved: 1, median_restore_seconds: 1800, mean_restore_seconds: 1800 },
      { severity: 3, declared: 1, resolved: 0, median_restore_seconds: null, mean_restore_seconds: null },
    ]);
  });

  it('answers an empty window with zeros and no bands where nothing can be judged', async () => {
    const answer = await dora('?service=search');
    expect(answer.body).toMatchObject({
      deployment_frequency: { per_day: 0, deployments: 0, band: 'low' },
      lead_time: { median_seconds: null, p90_seconds: null, band: null },
      change_failure_rate: { rate: null, failed: 0, total: 0, band: null },
      time_to_restore: { median_seconds: null, incidents: 0, band: null },
      change_success_rate: { rate: null, succeeded: 0, total: 0 },
    });
  });

  it('counts a single deployment, and all services together', async () => {
    const single = await dora('?service=payments&from=2026-11-19T00:00:00Z&to=2026-11-20T00:00:00Z');
    expect(single.body).toMatchObject({
      deployment_frequency: { deployments: 1, per_day: 1, band: 'elite' },
      lead_time: { median_seconds: 36000, p90_seconds: 36000, band: 'elite' },
    });
    const all = await dora('?from=2026-11-15&to=2026-11-22');
    expect(all.body).toMatchObject({ service: null, deployment_frequency: { deployments: 5 } });
  });

  it('draws day boundaries in the configured time zone', async () => {
    // Midnight in UTC is 01:00 in Paris: the deploy at 23:59:59Z on the 15th falls on the 16th there.
    const paris = await startHarness({ alongside: t, config: { timeZone: 'Europe/Paris' } });
    try {
      const token = await paris.token('read');
      const answer = await paris.api('GET', '/metrics/dora?service=payments&from=2026-11-16&to=2026-11-16', { token });
      expect(answer.body.from).toBe('2026-11-15T23:00:00.000Z');
      expect(answer.body.deployment_frequency.deployments).toBe(2);
    } finally {
      await paris.stop();
    }
  });

  it('validates the query', async () => {
    const unknown = await dora('?service=billing');
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([{ field: 'service', message: 'unknown service "billing"' }]);
    expect(unknown.body.error.message).toBe('There is no service "billing" in the catalog. Known services: payments, search.');
    const backwards = await dora('?from=2026-11-20&to=2026-11-10');
    expect(backwards.body.error.details).toEqual([{ field: 'from', message: 'must be before to' }]);
    expect((await t.api('GET', '/metrics/dora', { token: await t.token('changes:write') })).status).toBe(403);
  });

  it('answers /tandem kpis in Slack, readable on a phone', async () => {
    t.clock.set('2026-11-23T00:00:00Z');
    await t.simulator.command('U0DEV', 'C0GENERAL', '/tandem', 'kpis payments');
    await t.idle();
    const reply = t.slack.ephemeralsFor('U0DEV').at(-1)!;
    const text = JSON.stringify(reply.blocks);
    expect(text).toContain('Delivery KPIs · payments');
    // The last 30 days also hold the deploy of the 15th: 2 failed of 6.
    expect(text).toContain('*Change failure rate* 33.3% (2 of 6) · 🔴 low');
    expect(text).toContain('*Time to restore* median 1h (2 incidents) · 🔵 high');
    await t.simulator.command('U0DEV', 'C0GENERAL', '/tandem', 'kpis billing');
    expect(t.slack.ephemeralsFor('U0DEV').at(-1)!.text).toBe('There is no service "billing" in the catalog. Known services: payments, search.');
  });
});
