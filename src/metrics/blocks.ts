import { changeReference } from '../changes/blocks';
import { changeKey } from '../changes/model';
import { percent } from '../changes/model';
import type { ChangeBudgetRow, ChangeRow, IncidentRow } from '../db/schema';
import { incidentKey, severityLabel } from '../incidents/model';
import { type Block, context, header, section } from '../slack/blocks';
import { slackDate, toMrkdwn, toPlainText, truncate } from '../slack/text';
import { formatDuration } from '../time';
import type { Band } from './model';
import type { DeliveryKpis } from './service';

/** KPIs as short lines that read on a phone: figure, the counts behind it, band. */

const bandMarks: Record<Band, string> = { elite: '🟢 elite', high: '🔵 high', medium: '🟡 medium', low: '🔴 low' };
const band = (value: Band | null) => (value ? ` · ${bandMarks[value]}` : '');
const duration = (seconds: number | null) => (seconds === null ? '—' : formatDuration(seconds));
const rate = (value: number | null) => (value === null ? '—' : percent(value));

export function kpiLines(kpis: DeliveryKpis): string[] {
  const { deploymentFrequency: df, leadTime: lt, changeFailureRate: cfr, timeToRestore: ttr, changeSuccessRate: csr, deploymentReworkRate: drr } = kpis;
  const perDay = df.perDay >= 1 ? `${df.perDay.toFixed(1)}/day` : `${(df.perDay * 7).toFixed(1)}/week`;
  return [
    `*Deployment frequency* ${perDay} (${df.deployments} deploys)${band(df.band)}`,
    `*Lead time* median ${duration(lt.medianSeconds)}, p90 ${duration(lt.p90Seconds)} (${lt.changes} deploys)${band(lt.band)}`,
    `*Change failure rate* ${rate(cfr.rate)} (${cfr.failed} of ${cfr.total})${band(cfr.band)}`,
    `*Time to restore* median ${duration(ttr.medianSeconds)} (${ttr.incidents} incidents)${band(ttr.band)}`,
    `*Change success rate* ${rate(csr.rate)} (${csr.succeeded} of ${csr.total})`,
    `*Deployment rework rate* ${rate(drr.rate)} (${drr.unplanned} unplanned of ${drr.total})`,
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

/** One service's report: two consecutive periods and what happened in the latest. */
export interface ServiceReport {
  service: string;
  current: DeliveryKpis;
  previous: DeliveryKpis;
  failedChanges: ChangeRow[];
  incidents: IncidentRow[];
  budgetChange: ChangeBudgetRow | undefined;
}

type Direction = 'higher' | 'lower';

/** "INC-3, INC-5 and 1 private incident": public incidents by key, private ones only counted. */
function incidentsNamed(incidents: readonly Pick<IncidentRow, 'number' | 'private'>[]): string {
  const hidden = incidents.filter((incident) => incident.private).length;
  const names = [
    ...incidents.filter((incident) => !incident.private).map((incident) => incidentKey(incident.number)),
    ...(hidden > 0 ? [`${hidden} private ${hidden === 1 ? 'incident' : 'incidents'}`] : []),
  ];
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names.join('');
}

/** One figure against the previous period: improved, worsened or steady, with the band move. */
function movement(
  label: string,
  now: number | null,
  before: number | null,
  better: Direction,
  show: (value: number) => string,
  bands?: [Band | null, Band | null],
): string {
  const shown = now === null ? '—' : show(now);
  let trend = '⚪ no comparison';
  if (now !== null && before !== null) {
    const improved = better === 'higher' ? now > before : now < before;
    trend = now === before ? '⚪ steady' : `${improved ? '🟢 better' : '🔴 worse'} than ${show(before)}`;
  }
  const bandMove = bands && bands[0] !== bands[1] && bands[0] && bands[1] ? ` · ${bandMarks[bands[1]]} → ${bandMarks[bands[0]]}` : '';
  return `*${label}* ${shown} · ${trend}${bandMove}`;
}

export function improvementReport(report: ServiceReport): { text: string; blocks: Block[] } {
  const { current: now, previous: before } = report;
  const lines = [
    movement('Deployments', now.deploymentFrequency.deployments, before.deploymentFrequency.deployments, 'higher', String, [
      now.deploymentFrequency.band,
      before.deploymentFrequency.band,
    ]),
    movement('Lead time (median)', now.leadTime.medianSeconds, before.leadTime.medianSeconds, 'lower', formatDuration, [now.leadTime.band, before.leadTime.band]),
    movement('Change failure rate', now.changeFailureRate.rate, before.changeFailureRate.rate, 'lower', percent, [
      now.changeFailureRate.band,
      before.changeFailureRate.band,
    ]),
    movement('Time to restore (median)', now.timeToRestore.medianSeconds, before.timeToRestore.medianSeconds, 'lower', formatDuration, [
      now.timeToRestore.band,
      before.timeToRestore.band,
    ]),
    movement('Change success rate', now.changeSuccessRate.rate, before.changeSuccessRate.rate, 'higher', percent),
    `${movement('Deployment rework rate', now.deploymentReworkRate.rate, before.deploymentReworkRate.rate, 'lower', percent)} (${now.deploymentReworkRate.unplanned} unplanned of ${now.deploymentReworkRate.total})`,
  ];
  const behind = [
    ...report.failedChanges.map((change) => `• 💥 ${changeReference(change)}: ${toMrkdwn(change.failureReason ?? 'failed')}`),
    ...report.incidents.map((incident) => {
      const outcome = incident.resolvedAt
        ? `, restored in ${formatDuration((incident.resolvedAt.getTime() - incident.declaredAt.getTime()) / 1000)}`
        : ', still open';
      // The report channel is outside a private incident's channel: its figures count, its title and key stay inside.
      return incident.private
        ? `• 🔒 A private incident (${severityLabel(incident.severity)}${outcome})`
        : `• 🔥 *${incidentKey(incident.number)}* ${toMrkdwn(toPlainText(incident.title))} (${severityLabel(incident.severity)}${outcome})`;
    }),
  ];
  const act =
    report.failedChanges.length > 0
      ? `Review ${report.failedChanges.map((change) => changeKey(change.number)).join(', ')} at the next retrospective.`
      : report.incidents.length > 0
        ? `Turn the follow-ups of ${incidentsNamed(report.incidents)} into backlog work.`
        : 'No failures this period: keep the batch size small and carry on.';
  const blocks: Block[] = [
    header(`Continual improvement · ${report.service}`),
    context(`${slackDate(now.from, '{date_short}')} – ${slackDate(new Date(now.to.getTime() - 1), '{date_short}')}, against the period before. The trend chart is in the thread.`),
    section(`*Check: what moved*\n${lines.join('\n')}`),
  ];
  if (behind.length > 0) blocks.push(section(truncate(`*Behind the movement*\n${behind.join('\n')}`, 3000)));
  if (report.budgetChange) {
    blocks.push(section(`*Change budget* for the sprint of ${report.budgetChange.sprint}: ${toMrkdwn(report.budgetChange.reason)}`));
  }
  blocks.push(section(`*Act* ${act}`));
  return { text: `Continual-improvement report for ${report.service}`, blocks };
}
