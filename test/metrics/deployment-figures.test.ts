import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeRow, changes, type DeploymentRow, deployments, incidents } from '../../src/db/schema';
import type { Window } from '../../src/metrics/model';
import { deploymentFigures } from '../../src/metrics/store';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** A small deterministic pseudo-random source (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, pick: <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]! };
}

const services = ['payments', 'search', 'ledger'] as const;
const start = Date.parse('2026-11-01T00:00:00Z');
const dayMs = 86_400_000;

/** The figures the obvious way, from every row: filter, count and sort in JavaScript. */
function straightforward(rows: { deployments: DeploymentRow[]; changes: ChangeRow[]; causes: Set<string> }, window: Window, service?: string) {
  const changeOf = new Map(rows.changes.map((change) => [change.id, change]));
  const inWindow = rows.deployments.filter(
    (deploy) =>
      (deploy.environment === 'production' || deploy.environment === 'prod') &&
      deploy.finishedAt >= window.from &&
      deploy.finishedAt < window.to &&
      (service === undefined || deploy.service === service),
  );
  const change = (deploy: DeploymentRow) => (deploy.changeId ? changeOf.get(deploy.changeId) : undefined);
  const leads = inWindow
    .filter((deploy) => deploy.status === 'success' && deploy.committedAt)
    .map((deploy) => (deploy.finishedAt.getTime() - deploy.committedAt!.getTime()) / 1000)
    .sort((a, b) => a - b);
  const percentile = (fraction: number) => {
    if (leads.length === 0) return null;
    const position = (leads.length - 1) * fraction;
    const lower = Math.floor(position);
    return leads[lower]! + (leads[Math.ceil(position)]! - leads[lower]!) * (position - lower);
  };
  return {
    deployments: inWindow.filter((deploy) => deploy.status === 'success').length,
    total: inWindow.length,
    failed: inWindow.filter((deploy) => deploy.status === 'failure' || change(deploy)?.status === 'failed' || rows.causes.has(deploy.id)).length,
    unplanned: inWindow.filter((deploy) => deploy.unplanned || change(deploy)?.type === 'emergency').length,
    leadTimes: leads.length,
    leadMedianSeconds: percentile(0.5),
    leadP90Seconds: percentile(0.9),
  };
}

describe('deployment figures over a random data set', () => {
  let database: TestDatabase;
  let rows: Parameters<typeof straightforward>[0];
  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database.handle;
    const dice = random(20261202);
    const at = (days: number) => new Date(start + Math.floor(dice.next() * days * dayMs));
    const insertedChanges = await db
      .insert(changes)
      .values(
        Array.from({ length: 40 }, (_, index) => ({
          service: dice.pick(services),
          title: `change ${index}`,
          type: dice.pick(['standard', 'normal', 'emergency'] as const),
          risk: 'medium' as const,
          environment: 'production',
          requestedBy: 'U0DEV',
          requestedAt: at(30),
          sprint: '2026-11-02',
          status: dice.pick(['approved', 'deployed', 'failed', 'deployed'] as const),
          updatedAt: at(30),
        })),
      )
      .returning();
    const insertedDeployments = await db
      .insert(deployments)
      .values(
        Array.from({ length: 400 }, () => {
          const finishedAt = at(30);
          const change = dice.next() < 0.4 ? dice.pick(insertedChanges) : undefined;
          return {
            service: change?.service ?? dice.pick(services),
            environment: dice.pick(['production', 'production', 'prod', 'staging', 'Production']),
            status: dice.next() < 0.15 ? ('failure' as const) : ('success' as const),
            changeId: change?.id ?? null,
            unplanned: dice.next() < 0.1,
            finishedAt,
            // Lead times to the millisecond, some of them equal, some missing.
            committedAt: dice.next() < 0.2 ? null : new Date(finishedAt.getTime() - dice.pick([3_600_000, Math.floor(dice.next() * 3 * dayMs)])),
            reportedBy: 'api:ci',
            createdAt: finishedAt,
          };
        }),
      )
      .returning();
    const causes = Array.from({ length: 25 }, () => dice.pick(insertedDeployments));
    await db.insert(incidents).values(
      causes.map((deploy, index) => ({
        title: `incident ${index}`,
        service: deploy.service,
        severity: 2,
        declaredBy: 'U0DEV',
        declaredAt: deploy.finishedAt,
        causedByDeploymentId: deploy.id,
        updatedAt: deploy.finishedAt,
      })),
    );
    rows = { deployments: insertedDeployments, changes: insertedChanges, causes: new Set(causes.map((deploy) => deploy.id)) };
  });
  afterAll(() => database.drop());

  const windows: Window[] = [
    { from: new Date(start), to: new Date(start + 30 * dayMs) },
    { from: new Date(start + 3 * dayMs), to: new Date(start + 10 * dayMs) },
    { from: new Date(start + 17.5 * dayMs), to: new Date(start + 18 * dayMs) },
    { from: new Date(start - 5 * dayMs), to: new Date(start) },
  ];

  it('equal the straightforward computation, for all services and for each one', async () => {
    for (const window of windows) {
      for (const service of [undefined, ...services, 'unknown']) {
        const figures = await deploymentFigures(database.handle.db, window, service);
        expect({ window, service, ...figures }).toEqual({ window, service, ...straightforward(rows, window, service) });
      }
    }
  });
});
