import { type Block, context, header, section } from '../slack/blocks';
import { formatDuration } from '../time';
import type { Band } from './model';
import { percent } from '../changes/policy';
import type { DeliveryKpis } from './service';

/** KPIs as short lines that read on a phone: figure, the counts behind it, band. */

const bandMarks: Record<Band, string> = { elite: '🟢 elite', high: '🔵 high', medium: '🟡 medium', low: '🔴 low' };
const band = (value: Band | null) => (value ? ` · ${bandMarks[value]}` : '');
const duration = (seconds: number | null) => (seconds === null ? '—' : formatDuration(seconds));
const rate = (value: number | null) => (value === null ? '—' : percent(value));

export function kpiLines(kpis: DeliveryKpis): string[] {
  const { deploymentFrequency: df, leadTime: lt, changeFailureRate: cfr, timeToRestore: ttr, changeSuccessRate: csr } = kpis;
  const perDay = df.perDay >= 1 ? `${df.perDay.toFixed(1)}/day` : `${(df.perDay * 7).toFixed(1)}/week`;
  return [
    `*Deployment frequency* ${perDay} (${df.deployments} deploys)${band(df.band)}`,
    `*Lead time* median ${duration(lt.medianSeconds)}, p90 ${duration(lt.p90Seconds)} (${lt.changes} deploys)${band(lt.band)}`,
    `*Change failure rate* ${rate(cfr.rate)} (${cfr.failed} of ${cfr.total})${band(cfr.band)}`,
    `*Time to restore* median ${duration(ttr.medianSeconds)} (${ttr.incidents} incidents)${band(ttr.band)}`,
    `*Change success rate* ${rate(csr.rate)} (${csr.succeeded} of ${csr.total})`,
  ];
}

export function kpiMessage(kpis: DeliveryKpis, days: number): { text: string; blocks: Block[] } {
  const subject = kpis.service ?? 'all services';
  const incidents = kpis.incidentsBySeverity
    .filter((row) => row.declared > 0 || row.resolved > 0)
    .map((row) => `SEV${row.severity}: ${row.declared} declared, MTTR ${duration(row.meanRestoreSeconds)}`);
  const budget = kpis.changeBudget.at(-1);
  const blocks: Block[] = [
    header(`Delivery KPIs · ${subject}`),
    context(`Last ${days} days. Bands follow DORA's 2023 State of DevOps Report.`),
    section(kpiLines(kpis).join('\n')),
  ];
  if (incidents.length > 0) blocks.push(section(`*Incidents*\n${incidents.join('\n')}`));
  if (budget) blocks.push(section(`*Change budget* sprint of ${budget.sprint}: ${budget.used} of ${budget.budget} used`));
  return { text: `Delivery KPIs for ${subject}, last ${days} days`, blocks };
}
