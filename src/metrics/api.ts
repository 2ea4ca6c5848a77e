import type { ApiRoute } from '../api/router';
import { findService, unknownService } from '../catalog';
import { invalid } from '../errors';
import { parseWindow } from './model';
import { type DeliveryKpis, deliveryKpis, type MetricsDeps } from './service';

export function metricsRoutes(deps: MetricsDeps): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/metrics/dora',
      scopes: ['read'],
      async handle({ query }) {
        const service = query.get('service') || undefined;
        if (service && !findService(deps.catalog, service)) {
          throw unknownService(deps.catalog, service, 'validation_failed');
        }
        const window = parseWindow({ from: query.get('from'), to: query.get('to') }, deps.clock.now(), deps.timeZone);
        if ('field' in window) throw invalid('validation_failed', `${window.field} ${window.message}.`, [window]);
        return { status: 200, body: kpiResource(await deliveryKpis(deps, window, service)) };
      },
    },
  ];
}

export function kpiResource(kpis: DeliveryKpis) {
  return {
    service: kpis.service,
    from: kpis.from.toISOString(),
    to: kpis.to.toISOString(),
    deployment_frequency: {
      per_day: Math.round(kpis.deploymentFrequency.perDay * 1000) / 1000,
      deployments: kpis.deploymentFrequency.deployments,
      band: kpis.deploymentFrequency.band,
    },
    lead_time: {
      median_seconds: roundSeconds(kpis.leadTime.medianSeconds),
      p90_seconds: roundSeconds(kpis.leadTime.p90Seconds),
      deployments: kpis.leadTime.changes,
      band: kpis.leadTime.band,
    },
    change_failure_rate: { ...kpis.changeFailureRate },
    time_to_restore: {
      median_seconds: roundSeconds(kpis.timeToRestore.medianSeconds),
      incidents: kpis.timeToRestore.incidents,
      band: kpis.timeToRestore.band,
    },
    change_success_rate: { ...kpis.changeSuccessRate },
    deployment_rework_rate: { ...kpis.deploymentReworkRate },
    incidents_by_severity: kpis.incidentsBySeverity.map((row) => ({
      severity: row.severity,
      declared: row.declared,
      resolved: row.resolved,
      median_restore_seconds: roundSeconds(row.medianRestoreSeconds),
      mean_restore_seconds: roundSeconds(row.meanRestoreSeconds),
    })),
    change_budget: kpis.changeBudget,
  };
}

const roundSeconds = (value: number | null) => (value === null ? null : Math.round(value));
