import { findService, serviceOfRepository, tandemEnvironmentOf } from '../catalog';
import { requestChange } from '../changes/module';
import * as changes from '../changes/store';
import type { ChangeRow, GitHubGateRow } from '../db/schema';
import { isTandemError } from '../errors';
import type { GitHubDeps } from './deps';
import { callbackState, decisionComment, waitingComment } from './messaging';
import { callbackPath, gateRequestKey, gateTitle, githubRequester, isTandemEnvironment, type WorkflowRun, workflowRun } from './model';
import * as store from './store';

/** A run waiting on Tandem's protection rule becomes a change; the change's state goes back to the run. */

export interface GateRequest {
  repository: string;
  installationId: number;
  runId: number;
  /** The GitHub environment's name. */
  environment: string;
  sha: string;
  ref: string;
  /** The run, when the caller has it already (the reconcile job lists them). */
  run?: WorkflowRun;
  /** Who triggered the deployment, when the run does not say. */
  login?: string;
}

export type GateOutcome = { gate: GitHubGateRow; change: ChangeRow; created: boolean } | { ignored: string };

/**
 * Gates a run's environment: one change per run and environment, however often it is
 * asked (a redelivery, the reconcile job, two instances at once), decided as any change.
 */
export async function gateRun(deps: GitHubDeps, request: GateRequest): Promise<GateOutcome> {
  const serviceName = serviceOfRepository(deps.catalog, request.repository);
  const service = serviceName ? findService(deps.catalog, serviceName) : undefined;
  if (!serviceName || !service) return { ignored: `${request.repository} is not listed under any service's github.repositories` };
  const environment = tandemEnvironmentOf(service, request.environment);
  if (!isTandemEnvironment(environment)) {
    return { ignored: `GitHub environment "${request.environment}" has no Tandem name; map it under ${serviceName}'s github.environments` };
  }
  const existing = await store.findGate(deps.db, request.runId, request.environment);
  if (existing) {
    const change = await changes.findChangeById(deps.db, existing.changeId);
    if (change) await syncGate(deps, existing, change);
    return change ? { gate: existing, change, created: false } : { ignored: 'the gate has no change' };
  }
  const run = request.run ?? workflowRun.parse(await deps.github.read(request.installationId, `/repos/${request.repository}/actions/runs/${request.runId}`));
  const requestedBy = await requesterOf(deps, run, request.login);
  let result: { change: ChangeRow; created: boolean };
  try {
    result = await requestChange(deps, {
      service: serviceName,
      title: gateTitle(run),
      type: service.github?.standard_environments.includes(environment) ? 'standard' : 'normal',
      environment,
      ref: request.ref,
      commitSha: request.sha,
      description: `GitHub Actions run of ${request.repository}, waiting for the ${request.environment} environment: ${run.html_url}`,
      requestedBy,
      requestKey: gateRequestKey(request.runId, request.environment),
      notifyRequester: !requestedBy.startsWith('github:'),
    });
  } catch (error) {
    // The catalog cannot take this change (say, too few approvers): GitHub is told why rather than left waiting.
    if (isTandemError(error) && error.kind === 'invalid') return { ignored: error.message };
    throw error;
  }
  const gate = await store.insertGate(deps.db, {
    repository: request.repository,
    runId: request.runId,
    environment: request.environment,
    installationId: request.installationId,
    callbackPath: callbackPath(request.repository, request.runId),
    changeId: result.change.id,
    sha: request.sha,
    createdAt: deps.clock.now(),
  });
  // The change event of the request came before the gate existed, so its first state is sent from here.
  const change = (await changes.findChangeById(deps.db, result.change.id)) ?? result.change;
  await syncGate(deps, gate, change);
  return { gate, change, created: result.created };
}

/** Queues what the run should show of its change: the decision, or while it waits, how many approvals are missing. */
export async function syncGate(deps: GitHubDeps, gate: GitHubGateRow, change: ChangeRow): Promise<void> {
  const state = callbackState(change);
  const now = deps.clock.now();
  const base = { gateId: gate.id, installationId: gate.installationId, method: 'POST', path: gate.callbackPath, notBefore: now, createdAt: now };
  let queued: boolean;
  if (state) {
    const comment = decisionComment(change, await decidersOf(deps, change));
    queued = await store.queueCall(deps.db, { ...base, kind: 'decision', dedupKey: `decision:${gate.id}`, body: { environment_name: gate.environment, state, comment } });
  } else {
    const votes = await changes.listVotes(deps.db, change.id);
    const approvals = votes.filter((vote) => vote.choice === 'approve').length;
    const quorum = findService(deps.catalog, change.service)?.approvers.quorum ?? 1;
    const comment = waitingComment(change, approvals, quorum);
    queued = await store.queueCall(deps.db, { ...base, kind: 'status', dedupKey: `status:${gate.id}:${approvals}`, body: { environment_name: gate.environment, comment } });
  }
  if (queued) deps.calls.kick();
}

/** The Slack user whose e-mail wrote the head commit, else the GitHub login that triggered the run. */
async function requesterOf(deps: GitHubDeps, run: WorkflowRun, fallbackLogin: string | undefined): Promise<string> {
  const email = run.head_commit?.author?.email;
  if (email && !email.endsWith('@users.noreply.github.com')) {
    try {
      const found = await deps.slack.users.lookupByEmail({ email });
      if (found.user?.id) return found.user.id;
    } catch (error) {
      deps.logger.debug({ err: error, email }, 'no Slack user for the commit author');
    }
  }
  return githubRequester(run.triggering_actor?.login ?? run.actor?.login ?? fallbackLogin ?? 'unknown');
}

/** The names of the people who decided, as Slack shows them; their IDs when Slack cannot say. */
async function decidersOf(deps: GitHubDeps, change: ChangeRow): Promise<string[]> {
  const ids = (change.decidedBy ?? []).filter((id) => id !== 'policy');
  return Promise.all(
    ids.map(async (id) => {
      try {
        const { user } = await deps.slack.users.info({ user: id });
        return user?.profile?.real_name || user?.real_name || user?.name || id;
      } catch {
        return id;
      }
    }),
  );
}
