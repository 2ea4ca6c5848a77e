import { serviceOfRepository, findService, tandemEnvironmentOf } from '../catalog';
import { recordDeployment } from '../changes/module';
import * as changes from '../changes/store';
import { isTandemError } from '../errors';
import type { GitHubDeps } from './deps';
import { commitOf, type DeploymentStatusCreated, finishedDeploymentStatus } from './model';
import * as store from './store';

/** A finished `deployment_status` of a gated repository: the deployment is recorded as POST /deployments records it. */
export async function recordDeploymentStatus(deps: GitHubDeps, payload: DeploymentStatusCreated): Promise<string> {
  const repository = payload.repository.full_name;
  const serviceName = serviceOfRepository(deps.catalog, repository);
  const service = serviceName ? findService(deps.catalog, serviceName) : undefined;
  if (!serviceName || !service) return `ignored: ${repository} is not listed under any service's github.repositories`;
  const status = finishedDeploymentStatus(payload.deployment_status.state);
  if (!status) return `ignored: state ${payload.deployment_status.state} does not finish a deployment`;
  const githubEnvironment = payload.deployment_status.environment ?? payload.deployment.environment;
  const environment = tandemEnvironmentOf(service, githubEnvironment);
  const statusId = payload.deployment_status.id;
  if (!(await store.claimDeploymentStatus(deps.db, statusId, deps.clock.now()))) return 'duplicate: deployment status already recorded';
  try {
    const sha = payload.deployment.sha;
    const gate = await store.findGateOfDeployment(deps.db, { runId: payload.workflow_run?.id ?? undefined, environment: githubEnvironment, sha });
    const change = gate ? await changes.findChangeById(deps.db, gate.changeId) : undefined;
    const committedAt = await commitTime(deps, payload.installation.id, repository, sha);
    const report = {
      service: serviceName,
      environment,
      status,
      commitSha: sha,
      startedAt: new Date(payload.deployment.created_at),
      finishedAt: new Date(payload.deployment_status.created_at),
      committedAt,
      url: payload.deployment_status.target_url ?? payload.workflow_run?.html_url ?? payload.deployment_status.log_url ?? undefined,
      reportedBy: `github:${repository}`,
    };
    let recorded: Awaited<ReturnType<typeof recordDeployment>>;
    try {
      recorded = await recordDeployment(deps, { ...report, changeId: change?.id });
    } catch (error) {
      // A deployment GitHub ran anyway (its change was rejected or of another service) is still a deployment.
      if (!(isTandemError(error) && error.kind === 'conflict')) throw error;
      recorded = await recordDeployment(deps, report);
    }
    await store.noteDeploymentRecorded(deps.db, statusId, recorded.deployment.id);
    return `recorded deployment ${recorded.deployment.id}${recorded.change ? ` of change ${recorded.change.id}` : ''}`;
  } catch (error) {
    await store.releaseDeploymentStatus(deps.db, statusId);
    throw error;
  }
}

/** When the commit was made, so lead time runs from it; unknown when GitHub cannot say. */
async function commitTime(deps: GitHubDeps, installationId: number, repository: string, sha: string): Promise<Date | undefined> {
  const answer = await deps.github.request(installationId, 'GET', `/repos/${repository}/commits/${sha}`);
  if (answer.status === undefined || answer.status >= 500) throw new Error(`GitHub answered ${answer.status ?? 'nothing'} for commit ${sha}: ${answer.message}`);
  const parsed = commitOf.safeParse(answer.data);
  const date = parsed.success ? (parsed.data.commit.committer?.date ?? parsed.data.commit.author?.date) : undefined;
  return date ? new Date(date) : undefined;
}
