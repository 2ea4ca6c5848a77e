import type { DomainModule, ModuleContext } from '../module';
import { metricsRoutes } from './api';
import { attachTrendChart, postImprovementReports, type ReportDeps, reportTopic } from './report';

/** What the Home uses of metrics: a service's delivery KPIs. */
export { type DeliveryKpis, deliveryKpis, type MetricsDeps } from './service';

/** Delivery KPIs: the DORA API and the continual-improvement report. */
export function createMetrics(ctx: ModuleContext): DomainModule {
  const deps: ReportDeps = ctx;
  return {
    routes: metricsRoutes(deps),
    outboxHandlers: [
      reportTopic.handler({
        sent: async (report, response) => {
          if (typeof response.channel === 'string' && typeof response.ts === 'string') {
            await attachTrendChart(deps, report, response.channel, response.ts);
          }
        },
      }),
    ],
    schedules: [
      // The report's own schedule is in the catalog; each period is posted once.
      { name: 'improvement-report', cron: '*/10 * * * *', timeZone: ctx.timeZone, run: () => postImprovementReports(deps), runAtStart: true },
    ],
  };
}
