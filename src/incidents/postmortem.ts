import type { ChangeRow, DeploymentRow, IncidentRow, ProblemRow } from '../db/schema';
import { findChangeById, findDeployment } from '../changes/store';
import { formatDuration } from '../time';
import type { IncidentDeps } from './deps';
import { followUpStateLabels, incidentKey, problemKey, severityLabel, timeToRestoreSeconds } from './model';
import { listProblems, listTimeline } from './store';

/** The postmortem draft: a pure Markdown rendering of the incident's record, and what it is rendered from. */

export interface PostmortemInput {
  incident: IncidentRow;
  /** The timeline as `GET /incidents/:id` reads it. */
  timeline: Array<{ at: Date; actor: string; text: string }>;
  changes: ChangeRow[];
  deployments: DeploymentRow[];
  followUps: ProblemRow[];
}

/** One line of Markdown: no line breaks, and no characters that would start a heading or a table. */
const inline = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/([\\`*_[\]|<>#])/g, '\\$1').trim();
const iso = (at: Date) => at.toISOString().replace('.000Z', 'Z');

export function renderPostmortem({ incident, timeline, changes, deployments, followUps }: PostmortemInput): string {
  const key = incidentKey(incident.number);
  const ttr = timeToRestoreSeconds(incident);
  const lines: string[] = [
    `# Postmortem draft: ${key} ${inline(incident.title)}`,
    '',
    '## Summary',
    '',
    incident.resolution ? inline(incident.resolution) : '_No resolution summary was recorded._',
    ...(incident.description ? ['', inline(incident.description)] : []),
    '',
    '## Impact and time to restore',
    '',
    `- Service: ${incident.service ? inline(incident.service) : 'none'}`,
    `- Severity: ${severityLabel(incident.severity)}`,
    `- Declared: ${iso(incident.declaredAt)}`,
    `- Resolved: ${incident.resolvedAt ? iso(incident.resolvedAt) : 'not yet'}`,
    `- Time to restore: ${ttr === null ? 'not restored yet' : `${formatDuration(ttr)} (${ttr} s)`}`,
    `- Commander: ${incident.commander ?? 'unassigned'}`,
    '',
    '## Timeline',
    '',
    ...(timeline.length === 0 ? ['_Nothing was recorded._'] : timeline.map((entry) => `- ${iso(entry.at)} · ${inline(entry.actor)} · ${inline(entry.text)}`)),
    '',
    '## Linked changes and deployments',
    '',
  ];
  const linked = [
    ...changes.map((change) => `- CHG-${change.number} ${inline(change.title)} (${change.status}, ${inline(change.environment)})`),
    ...deployments.map(
      (deployment) =>
        `- Deployment to ${inline(deployment.environment)} at ${iso(deployment.finishedAt)} (${deployment.status}${deployment.commitSha ? `, ${inline(deployment.commitSha.slice(0, 12))}` : ''})`,
    ),
  ];
  lines.push(...(linked.length === 0 ? ['_None linked._'] : linked), '', '## Follow-ups', '');
  lines.push(
    ...(followUps.length === 0
      ? ['_None yet._']
      : followUps.map(
          (problem) => `- ${problemKey(problem.number)} ${inline(problem.title)} · ${problem.owner ?? 'no owner'} · ${followUpStateLabels[problem.state]}`,
        )),
  );
  lines.push('', '## Causes', '', '', '## Lessons', '', '');
  return lines.join('\n');
}

/** Reads what the draft shows: the same timeline as the API, the linked cause, the follow-ups. */
export async function loadPostmortem(deps: Pick<IncidentDeps, 'db'>, incident: IncidentRow): Promise<string> {
  const [timeline, followUps, change, deployment] = await Promise.all([
    listTimeline(deps.db, incident.id),
    listProblems(deps.db, incident.id),
    incident.causedByChangeId ? findChangeById(deps.db, incident.causedByChangeId) : undefined,
    incident.causedByDeploymentId ? findDeployment(deps.db, incident.causedByDeploymentId) : undefined,
  ]);
  return renderPostmortem({
    incident,
    timeline,
    changes: change ? [change] : [],
    deployments: deployment ? [deployment] : [],
    followUps,
  });
}

export const postmortemFilename = (incident: IncidentRow) => `${incidentKey(incident.number).toLowerCase()}-postmortem.md`;
