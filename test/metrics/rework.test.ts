import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, deployments } from '../../src/db/schema';
import { type Harness, startHarness } from '../support/harness';

const catalog = `
services:
  payments:
    owners: [U0OWNER]
  search: {}
  billing: {}
`;

const at = (iso: string) => new Date(iso);

/**
 * Deployment rework rate, hand-worked for the week 2026-11-16 to 2026-11-22 (UTC):
 * payments has 6 production deployments in the window, 4 of them unplanned —
 * - 11-16 00:00:00 sent unplanned (the window's first instant counts),
 * - 11-17 the deployment of an emergency change,
 * - 11-18 sent with `unplanned: true` through the API,
 * - 11-19 the deployment of a normal change (planned),
 * - 11-20 a plain deployment (planned),
 * - 11-21 a failed hotfix sent unplanned, to `prod` (a production name too);
 * not counted: staging deployments (one unplanned, one of the emergency change) and an
 * unplanned deployment at 11-23 00:00:00, the instant the window ends.
 * search has 1 production deployment, unplanned. All services: 5 of 7.
 */
async function seed(t: Harness, deployer: string) {
  const { db } = t.database.handle;
  const change = (title: string, type: 'normal' | 'emergency') => ({
    service: 'payments',
    title,
    type,
    risk: 'medium' as const,
    environment: 'production',
    requestedBy: 'U0DEV',
    requestedAt: at('2026-11-16T08:00:00Z'),
    sprint: '2026-11-16',
    status: 'deployed' as const,
    deployedAt: at('2026-11-17T12:00:00Z'),
    updatedAt: at('2026-11-17T12:00:00Z'),
  });
  const [emergency, normal] = await db.insert(changes).values([change('hotfix', 'emergency'), change('feature', 'normal')]).returning();
  const deploy = (finished: string, options: { unplanned?: boolean; changeId?: string; environment?: string; service?: string; status?: 'success' | 'failure' } = {}) => ({
    service: options.service ?? 'payments',
    environment: options.environment ?? 'production',
    status: options.status ?? ('success' as const),
    changeId: options.changeId ?? null,
    unplanned: options.unplanned ?? false,
    finishedAt: at(finished),
    reportedBy: 'api:ci',
    createdAt: at(finished),
  });
  await db.insert(deployments).values([
    deploy('2026-11-16T00:00:00Z', { unplanned: true }),
    deploy('2026-11-17T12:00:00Z', { changeId: emergency!.id }),
    deploy('2026-11-19T12:00:00Z', { changeId: normal!.id }),
    deploy('2026-11-20T12:00:00Z'),
    deploy('2026-11-21T12:00:00Z', { unplanned: true, environment: 'prod', status: 'failure' }),
    deploy('2026-11-18T12:00:00Z', { unplanned: true, environment: 'staging' }),
    deploy('2026-11-17T11:00:00Z', { changeId: emergency!.id, environment: 'staging' }),
    deploy('2026-11-23T00:00:00Z', { unplanned: true }),
    deploy('2026-11-18T12:00:00Z', { unplanned: true, service: 'search' }),
  ]);
  const sent = await t.api('POST', '/deployments', {
    token: deployer,
    body: { service: 'payments', environment: 'production', status: 'success', finished_at: '2026-11-18T12:00:00Z', unplanned: true },
  });
  expect(sent.status).toBe(201);
  expect(sent.body.unplanned).toBe(true);
}

describe('deployment rework rate', () => {
  let t: Harness;
  let reader: string;
  let deployer: string;
  beforeAll(async () => {
    t = await startHarness({ catalog, workspace: (slack) => slack.addUser({ id: 'U0DEV', name: 'dev' }) });
    reader = await t.token('read');
    deployer = await t.token('deployments:write');
    await seed(t, deployer);
  });
  afterAll(() => t.stop());

  const dora = async (query: string) => (await t.api('GET', `/metrics/dora${query}`, { token: reader })).body;

  it('is the share of production deployments that were unplanned, per service and over all', async () => {
    expect((await dora('?service=payments&from=2026-11-16&to=2026-11-22')).deployment_rework_rate).toEqual({ rate: 4 / 6, unplanned: 4, total: 6 });
    expect((await dora('?service=search&from=2026-11-16&to=2026-11-22')).deployment_rework_rate).toEqual({ rate: 1, unplanned: 1, total: 1 });
    expect((await dora('?from=2026-11-16&to=2026-11-22')).deployment_rework_rate).toEqual({ rate: 5 / 7, unplanned: 5, total: 7 });
  });

  it('draws the window as the other keys do: from inclusive, to exclusive', async () => {
    // Only the instant the week ends: the deployment there counts, the one at the week's start does not.
    expect((await dora('?service=payments&from=2026-11-23T00:00:00Z&to=2026-11-23T00:00:01Z')).deployment_rework_rate).toEqual({
      rate: 1,
      unplanned: 1,
      total: 1,
    });
    expect((await dora('?service=payments&from=2026-11-15T00:00:00Z&to=2026-11-16T00:00:00Z')).deployment_rework_rate).toEqual({
      rate: null,
      unplanned: 0,
      total: 0,
    });
  });

  it('has no rate, only zero counts, where there were no deployments', async () => {
    expect((await dora('?service=billing&from=2026-11-16&to=2026-11-22')).deployment_rework_rate).toEqual({ rate: null, unplanned: 0, total: 0 });
  });

  it('stores a deployment as planned unless it is sent unplanned, and refuses anything but a boolean', async () => {
    const planned = await t.api('POST', '/deployments', {
      token: deployer,
      body: { service: 'billing', environment: 'production', status: 'success', finished_at: '2026-11-10T12:00:00Z' },
    });
    expect(planned.body.unplanned).toBe(false);
    const wrong = await t.api('POST', '/deployments', {
      token: deployer,
      body: { service: 'billing', environment: 'production', status: 'success', unplanned: 'yes' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.details).toEqual([{ field: 'unplanned', message: 'must be true or false' }]);
    expect((await dora('?service=billing&from=2026-11-10&to=2026-11-10')).deployment_rework_rate).toEqual({ rate: 0, unplanned: 0, total: 1 });
  });

  it('shows in /tandem kpis with the counts behind it', async () => {
    t.clock.set('2026-11-23T00:00:00Z');
    await t.simulator.command('U0DEV', 'C0GENERAL', '/tandem', 'kpis payments');
    await t.idle();
    const text = JSON.stringify(t.slack.ephemeralsFor('U0DEV').at(-1)!.blocks);
    // The last 30 days end at the instant the week ends, so the deployment there is outside.
    expect(text).toContain('*Deployment rework rate* 66.7% (4 unplanned of 6)');
  });
});
