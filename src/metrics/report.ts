import type { WebClient } from '@slack/web-api';
import { and, eq, gte, lt } from 'drizzle-orm';
import { serviceNames } from '../catalog';
import { changeBudgets, changes, incidents } from '../db/schema';
import { claimPeriods, firesBefore, latestPeriod } from '../jobs/periods';
import type { Logger } from '../log';
import { enqueue, type OutboxWorker } from '../slack/outbox';
import { improvementReport, type ServiceReport } from './blocks';
import { renderPng, trendChartSvg, type TrendPoint } from './chart';
import type { Window } from './model';
import { deliveryKpis, type MetricsDeps } from './service';
import { deploymentFigures } from './store';

/**
 * The continual-improvement report (plan · do · check · act): on the catalog's
 * schedule, per service, this period against the one before, what moved, the
 * changes and incidents behind it, and the budget change it caused. Posted once per
 * period across instances; a trend chart follows in the thread.
 */

export interface ReportDeps extends MetricsDeps {
  outbox: OutboxWorker;
  slack: WebClient;
  logger: Logger;
}

export const reportTopic = 'metrics.report';
const reportJob = 'improvement-report';
const trendPeriods = 8;

export async function postImprovementReports(deps: ReportDeps): Promise<void> {
  const settings = deps.catalog.report;
  if (!settings) return;
  const schedule = { cron: settings.cron, timeZone: settings.timezone ?? deps.timeZone };
  const period = latestPeriod(schedule, deps.clock.now());
  if (!period) return;
  const [start, previousStart] = firesBefore(schedule, period.at, 2) as [Date, Date];
  const current: Window = { from: start, to: period.at };
  const previous: Window = { from: previousStart, to: start };

  const reports: ServiceReport[] = [];
  for (const service of serviceNames(deps.catalog)) {
    const report = await serviceReport(deps, service, current, previous);
    if (report) reports.push(report);
  }
  // A period where nothing happened anywhere is not worth a post, nor a claim.
  if (reports.length === 0) return;
  await deps.db.transaction(async (tx) => {
    const won = await claimPeriods(tx, deps.clock, [{ job: reportJob, period }]);
    if (!won.has(reportJob)) return;
    await enqueue(
      tx,
      deps.clock,
      reports.map((report) => ({
        topic: reportTopic,
        ref: JSON.stringify({ service: report.service, to: current.to.toISOString(), periodMs: current.to.getTime() - current.from.getTime() }),
        method: 'chat.postMessage',
        args: { channel: settings.channel, ...improvementReport(report), unfurl_links: false },
        dedupKey: `report:${period.key}:${report.service}`,
      })),
    );
  });
  deps.outbox.kick();
}

/** One service's figures for the report; undefined when nothing happened in either period. */
async function serviceReport(deps: ReportDeps, service: string, current: Window, previous: Window): Promise<ServiceReport | undefined> {
  const [now, before] = await Promise.all([deliveryKpis(deps, current, service), deliveryKpis(deps, previous, service)]);
  const active = (kpis: typeof now) =>
    kpis.changeFailureRate.total > 0 || kpis.changeSuccessRate.total > 0 || kpis.incidentsBySeverity.some((row) => row.declared + row.resolved > 0);
  if (!active(now) && !active(before)) return undefined;
  const inWindow = (column: typeof changes.failedAt | typeof incidents.declaredAt | typeof changeBudgets.setAt) =>
    and(gte(column, current.from), lt(column, current.to));
  const [failedChanges, declared, budget] = await Promise.all([
    deps.db.select().from(changes).where(and(eq(changes.service, service), eq(changes.status, 'failed'), inWindow(changes.failedAt))).limit(5),
    deps.db.select().from(incidents).where(and(eq(incidents.service, service), inWindow(incidents.declaredAt))).limit(5),
    deps.db.select().from(changeBudgets).where(and(eq(changeBudgets.service, service), inWindow(changeBudgets.setAt))).limit(1),
  ]);
  return { service, current: now, previous: before, failedChanges, incidents: declared, budgetChange: budget[0] };
}

const refSchema = (ref: string | null) => {
  try {
    const parsed = JSON.parse(ref ?? '') as { service?: unknown; to?: unknown; periodMs?: unknown };
    if (typeof parsed.service === 'string' && typeof parsed.to === 'string' && typeof parsed.periodMs === 'number') {
      return { service: parsed.service, to: new Date(parsed.to), periodMs: parsed.periodMs };
    }
  } catch {
    // Not a report reference: nothing to chart.
  }
  return undefined;
};

/** After a service's report is posted, its trend chart goes into the thread. Best effort: the report stands alone. */
export async function attachTrendChart(deps: ReportDeps, ref: string | null, channel: string, threadTs: string): Promise<void> {
  const report = refSchema(ref);
  if (!report) return;
  const points: TrendPoint[] = [];
  for (let index = trendPeriods - 1; index >= 0; index -= 1) {
    const to = new Date(report.to.getTime() - index * report.periodMs);
    const window = { from: new Date(to.getTime() - report.periodMs), to };
    const figures = await deploymentFigures(deps.db, window, report.service);
    points.push({
      label: window.from.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: deps.timeZone }),
      deployments: figures.deployments,
      failureRate: figures.total > 0 ? figures.failed / figures.total : null,
    });
  }
  const title = `${report.service}: production deployments and change failure rate`;
  try {
    await deps.slack.filesUploadV2({
      channel_id: channel,
      thread_ts: threadTs,
      file: renderPng(trendChartSvg(title, points)),
      filename: `${report.service}-trend.png`,
      title,
    });
  } catch (error) {
    deps.logger.warn({ err: error, service: report.service }, 'could not attach the trend chart');
  }
}
