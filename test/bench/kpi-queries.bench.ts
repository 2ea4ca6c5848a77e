import { and, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { parseCatalog } from '../../src/catalog';
import { openDatabase } from '../../src/db/client';
import { changes, deployments, incidents } from '../../src/db/schema';
import type { Window } from '../../src/metrics/model';
import { deliveryKpis, type MetricsDeps } from '../../src/metrics/service';
import { deploymentFigures } from '../../src/metrics/store';
import { systemClock } from '../../src/time';
import { percentile, postgresReachable, printTable, scratchDatabase } from './support';

/**
 * KPI queries at scale: 1,000,000 deployments, 50,000 changes and 10,000 incidents
 * over a year for 200 services. Times the SQL aggregates for one service and for
 * all services over 90 days, next to a naive pass that loads the window's rows and
 * computes the same figures in memory, in the same run, next to a bare anchor: a
 * count of the window's production deployments. Aims over 90 days: one service
 * under 200 ms at p50; all services (what the weekly report and the Home compute)
 * under 250 ms at p99.
 */
const counts = {
  services: 200,
  deployments: Number(process.env.BENCH_DEPLOYMENTS ?? 1_000_000),
  changes: 50_000,
  incidents: 10_000,
};
const samples = Number(process.env.BENCH_SAMPLES ?? 30);
const seedSlice = 50_000;

export async function run(): Promise<void> {
  if (!(await postgresReachable())) {
    console.log('kpi queries: skipped, PostgreSQL is not reachable (set TEST_DATABASE_URL)');
    return;
  }
  const scratch = await scratchDatabase(`tandem_bench_kpis_${process.pid}`);
  const handle = await openDatabase({ url: scratch.url, dataDir: '' });
  try {
    await handle.migrate();
    const loadStarted = performance.now();
    await seed(handle.db);
    // Autovacuum keeps a steady table's visibility map current; a fresh load needs it once for index-only scans.
    const maintenance = postgres(scratch.url, { max: 1, onnotice: () => {} });
    await maintenance`vacuum analyze`;
    await maintenance.end();
    console.log(`seeded ${counts.deployments} deployments, ${counts.changes} changes, ${counts.incidents} incidents in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);

    const services = Array.from({ length: counts.services }, (_, index) => `s${String(index + 1).padStart(3, '0')}`);
    const catalog = parseCatalog(`services:\n${services.map((service) => `  ${service}: {}`).join('\n')}\n`);
    const deps: MetricsDeps = { db: handle.db, catalog, clock: systemClock, timeZone: 'UTC' };
    const now = new Date();
    const window: Window = { from: new Date(now.getTime() - 90 * 86_400_000), to: now };
    const pick = (index: number) => services[(index * 37) % services.length]!;

    // Warm up caches and the planner for every path.
    await deliveryKpis(deps, window, pick(0));
    await deliveryKpis(deps, window);
    await previousDeploymentFigures(handle.db, window);
    await naiveKpis(deps, window, pick(0));

    const bareWindowCount = () =>
      handle.db
        .select({ count: sql<number>`count(*)::int` })
        .from(deployments)
        .where(and(inArray(deployments.environment, ['production', 'prod']), gte(deployments.finishedAt, window.from), lt(deployments.finishedAt, window.to)));
    const fewer = (divisor: number, least: number) => Math.max(least, Math.round(samples / divisor));
    const cases: Array<[string, number, (index: number) => Promise<unknown>]> = [
      ['bare anchor: count(*) of the window', samples, () => bareWindowCount()],
      ['all services, KPIs (report, Home, /tandem kpis)', samples, () => deliveryKpis(deps, window)],
      ['all services, deployment figures', samples, () => deploymentFigures(handle.db, window)],
      ['all services, deployment figures, previous query', fewer(3, 5), () => previousDeploymentFigures(handle.db, window)],
      ['one service, KPIs', samples, (index) => deliveryKpis(deps, window, pick(index))],
      ['one service, naive in-memory', fewer(6, 3), (index) => naiveKpis(deps, window, pick(index))],
      ['all services, naive in-memory', fewer(10, 3), () => naiveKpis(deps, window)],
    ];
    const rows: Array<Array<string | number>> = [];
    let anchor: { p50: number; p99: number } | undefined;
    const figures: Record<string, { p50: number; p99: number }> = {};
    for (const [label, runs, measured] of cases) {
      const times: number[] = [];
      for (let index = 0; index < runs; index += 1) {
        const started = performance.now();
        await measured(index);
        times.push(performance.now() - started);
      }
      const p50 = percentile(times, 0.5);
      const p99 = percentile(times, 0.99);
      anchor ??= { p50, p99 };
      figures[label] = { p50, p99 };
      rows.push([label, runs, p50.toFixed(1), p99.toFixed(1), `${(p50 / anchor.p50).toFixed(1)}×`, `${(p99 / anchor.p99).toFixed(1)}×`]);
    }
    printTable('KPI queries over 90 days (ms; × = against the bare anchor)', ['query', 'runs', 'p50', 'p99', 'p50 ×', 'p99 ×'], rows);

    const sqlFigures = await deliveryKpis(deps, window, pick(1));
    const naiveFigures = await naiveKpis(deps, window, pick(1));
    const same =
      sqlFigures.deploymentFrequency.deployments === naiveFigures.deployments &&
      sqlFigures.changeFailureRate.failed === naiveFigures.failed &&
      sqlFigures.timeToRestore.incidents === naiveFigures.restored &&
      Math.abs((sqlFigures.leadTime.medianSeconds ?? 0) - (naiveFigures.leadMedian ?? 0)) < 1;
    console.log(`SQL and in-memory figures agree for ${pick(1)}: ${same ? 'yes' : 'NO'}`);
    const oneService = figures['one service, KPIs']!.p50;
    console.log(`one service over 90 days, p50 ${oneService.toFixed(1)} ms (aim < 200 ms): ${oneService < 200 ? 'met' : 'MISSED'}`);
    const allServices = figures['all services, KPIs (report, Home, /tandem kpis)']!.p99;
    console.log(`all services over 90 days, p99 ${allServices.toFixed(1)} ms (aim < 250 ms): ${allServices < 250 ? 'met' : 'MISSED'}`);
  } finally {
    await handle.close();
    await scratch.drop();
  }
}

async function seed(db: MetricsDeps['db']): Promise<void> {
  const service = (column: string) => sql.raw(`'s' || lpad(((${column} % ${counts.services}) + 1)::text, 3, '0')`);
  await db.execute(sql`
    insert into changes (service, title, type, risk, environment, requested_by, requested_at, sprint, status, deployed_at, failed_at, updated_at)
    select ${service('i')}, 'change ' || i, 'normal', 'medium', 'production', 'U0DEV', at, to_char(at, 'YYYY-MM-DD'),
      (case when i % 10 = 0 then 'failed' else 'deployed' end)::change_status,
      case when i % 10 <> 0 then at + interval '2 hours' end,
      case when i % 10 = 0 then at + interval '3 hours' end,
      at
    from (select i, now() - random() * interval '365 days' as at from generate_series(1, ${counts.changes}) as i) as generated`);
  // In slices, so each statement stays well inside the client's statement timeout.
  for (let first = 1; first <= counts.deployments; first += seedSlice) {
    const last = Math.min(counts.deployments, first + seedSlice - 1);
    await db.execute(sql`
    insert into deployments (service, environment, status, finished_at, committed_at, reported_by, created_at)
    select ${service('i')}, case when i % 10 = 0 then 'staging' else 'production' end,
      (case when i % 20 = 0 then 'failure' else 'success' end)::deployment_status,
      at, at - random() * interval '48 hours', 'api:bench', at
    from (select i, now() - random() * interval '365 days' as at from generate_series(${first}::int, ${last}::int) as i) as generated`);
  }
  await db.execute(sql`
    insert into incidents (title, service, severity, declared_by, declared_at, status, resolved_at, updated_at)
    select 'incident ' || i, ${service('i')}, 1 + i % 4, 'U0DEV', at,
      (case when i % 10 = 0 then 'investigating' else 'resolved' end)::incident_status,
      case when i % 10 <> 0 then at + random() * interval '6 hours' end, at
    from (select i, now() - random() * interval '365 days' as at from generate_series(1, ${counts.incidents}) as i) as generated`);
}

/** The deployment figures as one query computed them before: a join to changes and a lookup of incidents per row. */
async function previousDeploymentFigures(db: MetricsDeps['db'], window: Window) {
  const lead = sql`extract(epoch from ${deployments.finishedAt} - ${deployments.committedAt})`;
  const withLeadTime = sql`${deployments.status} = 'success' and ${deployments.committedAt} is not null`;
  const [row] = await db
    .select({
      deployments: sql<number>`count(*) filter (where ${deployments.status} = 'success')::int`,
      total: sql<number>`count(*)::int`,
      failed: sql<number>`count(*) filter (where ${deployments.status} = 'failure' or ${changes.status} = 'failed' or exists (
        select 1 from ${incidents} where ${incidents.causedByDeploymentId} = ${deployments.id}))::int`,
      leadTimes: sql<number>`count(*) filter (where ${withLeadTime})::int`,
      leadMedian: sql<string | null>`percentile_cont(0.5) within group (order by ${lead}) filter (where ${withLeadTime})`,
      leadP90: sql<string | null>`percentile_cont(0.9) within group (order by ${lead}) filter (where ${withLeadTime})`,
    })
    .from(deployments)
    .leftJoin(changes, eq(changes.id, deployments.changeId))
    .where(and(inArray(deployments.environment, ['production', 'prod']), gte(deployments.finishedAt, window.from), lt(deployments.finishedAt, window.to)));
  return row;
}

/** The same figures the obvious way: load the window's rows, then count and sort in JavaScript. */
async function naiveKpis(deps: MetricsDeps, window: Window, service?: string) {
  const inService = <T extends { service: unknown }>(rows: T[]) => (service ? rows.filter((row) => row.service === service) : rows);
  const deploys = inService(
    await deps.db.select().from(deployments).where(and(gte(deployments.finishedAt, window.from), lt(deployments.finishedAt, window.to))),
  ).filter((deploy) => deploy.environment === 'production' || deploy.environment === 'prod');
  const failedChangeIds = new Set(
    inService(await deps.db.select().from(changes))
      .filter((change) => change.status === 'failed')
      .map((change) => change.id),
  );
  const resolved = inService(await deps.db.select().from(incidents)).filter(
    (incident) => incident.resolvedAt && incident.resolvedAt >= window.from && incident.resolvedAt < window.to,
  );
  const leads = deploys
    .filter((deploy) => deploy.status === 'success' && deploy.committedAt)
    .map((deploy) => (deploy.finishedAt.getTime() - deploy.committedAt!.getTime()) / 1000)
    .sort((a, b) => a - b);
  const restores = resolved.map((incident) => (incident.resolvedAt!.getTime() - incident.declaredAt.getTime()) / 1000).sort((a, b) => a - b);
  return {
    deployments: deploys.filter((deploy) => deploy.status === 'success').length,
    failed: deploys.filter((deploy) => deploy.status === 'failure' || (deploy.changeId && failedChangeIds.has(deploy.changeId))).length,
    leadMedian: leads.length ? interpolated(leads, 0.5) : null,
    leadP90: leads.length ? interpolated(leads, 0.9) : null,
    restored: resolved.length,
    restoreMedian: restores.length ? interpolated(restores, 0.5) : null,
  };
}

/** Percentile with linear interpolation between closest ranks, as percentile_cont computes it. */
function interpolated(sorted: number[], fraction: number): number {
  const position = (sorted.length - 1) * fraction;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

