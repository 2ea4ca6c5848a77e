import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { serviceNames } from '../catalog';
import { budgetSetIn, failedChangesIn } from '../changes/store';
import type { DomainEvents } from '../events';
import { incidentsDeclaredIn } from '../incidents/store';
import { claimPeriods, firesBefore, latestPeriod } from '../jobs/periods';
import type { Logger } from '../log';
import type { OutboxWorker } from '../slack/outbox';
import { outboxTopic } from '../slack/outbox-topic';
import { unitOfWork } from '../unit-of-work';
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
  events: DomainEvents;
  slack: WebClient;
  logger: Logger;
}

/** One service's report post; its payload says which figures the trend chart in its thread covers. */
export const reportTopic = outboxTopic(
  'metrics.report',
  z.object({ service: z.string(), to: z.iso.datetime().transform((to) => new Date(to)), periodMs: z.number() }),
);
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
  await unitOfWork(deps, async (work) => {
    const won = await claimPeriods(work.tx, deps.clock, [{ job: reportJob, period }]);
    if (!won.has(reportJob)) return;
    await work.send(
      reports.map((report) =>
        reportTopic.message(
          { service: report.service, to: current.to, periodMs: current.to.getTime() - current.from.getTime() },
          {
            method: 'chat.postMessage',
            args: { channel: settings.channel, ...improvementReport(report), unfurl_links: false },
            dedupKey: `report:${period.key}:${report.service}`,
          },
        ),
      ),
    );
  });
}

/** One service's figures for the report; undefined when nothing happened in either period. */
async function serviceReport(deps: ReportDeps, service: string, current: Window, previous: Window): Promise<ServiceReport | undefined> {
  const [now, before] = await Promise.all([deliveryKpis(deps, current, service), deliveryKpis(deps, previous, service)]);
  const active = (kpis: typeof now) =>
    kpis.changeFailureRate.total > 0 || kpis.changeSuccessRate.total > 0 || kpis.incidentsBySeverity.some((row) => row.declared + row.resolved > 0);
  if (!active(now) && !active(before)) return undefined;
  const [failedChanges, declared, budget] = await Promise.all([
    failedChangesIn(deps.db, service, current, 5),
    incidentsDeclaredIn(deps.db, service, current, 5),
    budgetSetIn(deps.db, service, current),
  ]);
  return { service, current: now, previous: before, failedChanges, incidents: declared, budgetChange: budget };
}

/** After a service's report is posted, its trend chart goes into the thread. Best effort: the report stands alone. */
export async function attachTrendChart(
  deps: ReportDeps,
  report: { service: string; to: Date; periodMs: number },
  channel: string,
  threadTs: string,
): Promise<void> {
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
