import { type Catalog, findService, policyOf } from '../catalog';
import { budgetSprintsIn } from '../changes/module';
import type { Database } from '../db/client';
import { type Clock, hourMs } from '../time';
import {
  type Band,
  changeFailureRateBand,
  deploymentFrequencyBand,
  leadTimeBand,
  timeToRestoreBand,
  type Window,
  windowDays,
} from './model';
import * as store from './store';

export interface MetricsDeps {
  db: Database;
  catalog: Catalog;
  clock: Clock;
  timeZone: string;
}

export interface DeliveryKpis {
  service: string | null;
  from: Date;
  to: Date;
  deploymentFrequency: { perDay: number; deployments: number; band: Band };
  leadTime: { medianSeconds: number | null; p90Seconds: number | null; changes: number; band: Band | null };
  changeFailureRate: { rate: number | null; failed: number; total: number; band: Band | null };
  timeToRestore: { medianSeconds: number | null; incidents: number; band: Band | null };
  changeSuccessRate: { rate: number | null; succeeded: number; total: number };
  /** DORA 2024's fifth key: the share of production deployments that were unplanned (emergency changes, hotfixes). */
  deploymentReworkRate: { rate: number | null; unplanned: number; total: number };
  incidentsBySeverity: store.IncidentFigures[];
  changeBudget: Array<{ sprint: string; budget: number; used: number }>;
}

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/** The delivery KPIs of one service, or of all of them, over a window. */
export async function deliveryKpis(deps: MetricsDeps, window: Window, service?: string): Promise<DeliveryKpis> {
  const policy = policyOf(deps.catalog, service ? findService(deps.catalog, service) : undefined);
  const settledBefore = new Date(deps.clock.now().getTime() - policy.attribution_hours * hourMs);
  const [deploys, restore, outcomes, bySeverity, budget] = await Promise.all([
    store.deploymentFigures(deps.db, window, service),
    store.restoreFigures(deps.db, window, service),
    store.changeOutcomeFigures(deps.db, window, settledBefore, service),
    store.incidentFigures(deps.db, window, service),
    service ? budgetSprintsIn(deps.db, deps, service, window).then((sprints) => store.budgetFigures(deps.db, service, sprints)) : Promise.resolve([]),
  ]);
  const perDay = deploys.deployments / windowDays(window);
  const failureRate = ratio(deploys.failed, deploys.total);
  return {
    service: service ?? null,
    from: window.from,
    to: window.to,
    deploymentFrequency: { perDay, deployments: deploys.deployments, band: deploymentFrequencyBand(perDay) },
    leadTime: {
      medianSeconds: deploys.leadMedianSeconds,
      p90Seconds: deploys.leadP90Seconds,
      changes: deploys.leadTimes,
      band: leadTimeBand(deploys.leadMedianSeconds),
    },
    changeFailureRate: { rate: failureRate, failed: deploys.failed, total: deploys.total, band: changeFailureRateBand(failureRate) },
    timeToRestore: { medianSeconds: restore.medianSeconds, incidents: restore.incidents, band: timeToRestoreBand(restore.medianSeconds) },
    changeSuccessRate: {
      rate: ratio(outcomes.succeeded, outcomes.succeeded + outcomes.failed),
      succeeded: outcomes.succeeded,
      total: outcomes.succeeded + outcomes.failed,
    },
    deploymentReworkRate: { rate: ratio(deploys.unplanned, deploys.total), unplanned: deploys.unplanned, total: deploys.total },
    incidentsBySeverity: bySeverity,
    changeBudget: budget,
  };
}
