import { gatedRepositories } from '../catalog';
import * as changes from '../changes/store';
import { claimPeriods, latestPeriod } from '../jobs/periods';
import type { GitHubDeps } from './deps';
import { gateRun, syncGate } from './gate';
import { pendingDeployments, workflowRuns } from './model';
import * as store from './store';
import { processDelivery } from './webhooks';

export const reconcileJob = 'github-reconcile';
/** Every five minutes, so a missed webhook is found within ten. */
export const reconcileCron = '*/5 * * * *';

const dayMs = 86_400_000;
/** Deliveries are tried again after a minute (the first try is still running before that), at most ten times. */
const retryDeliveriesAfterMs = 60_000;
const maxDeliveryAttempts = 10;

/**
 * What a webhook may have missed, once per period across instances: deliveries whose
 * work failed, gates whose decision was never queued (the instance that decided
 * stopped first), and runs waiting on the rule that no webhook told Tandem about.
 */
export async function reconcileGates(deps: GitHubDeps, timeZone: string): Promise<{ gated: number; retried: number }> {
  const now = deps.clock.now();
  const period = latestPeriod({ cron: reconcileCron, timeZone }, now);
  if (!period) return { gated: 0, retried: 0 };
  const won = await claimPeriods(deps.db, deps.clock, [{ job: reconcileJob, period }]);
  if (!won.has(reconcileJob)) return { gated: 0, retried: 0 };

  const retry = await store.unprocessedDeliveries(deps.db, new Date(now.getTime() - retryDeliveriesAfterMs), maxDeliveryAttempts, 100);
  for (const deliveryId of retry) await processDelivery(deps, deliveryId);

  for (const gate of await store.gatesWithoutDecision(deps.db, new Date(now.getTime() - 30 * dayMs), 200)) {
    const change = await changes.findChangeById(deps.db, gate.changeId);
    if (change && change.status !== 'pending') await syncGate(deps, gate, change);
  }

  // A redelivery of a week-old delivery finds its change by the run anyway.
  await store.pruneProcessedDeliveries(deps.db, new Date(now.getTime() - 7 * dayMs));

  let gated = 0;
  for (const { repository } of gatedRepositories(deps.catalog)) {
    try {
      gated += await gateWaitingRuns(deps, repository);
    } catch (error) {
      deps.logger.warn({ err: error, repository }, 'could not list the waiting runs of a repository');
    }
  }
  return { gated, retried: retry.length };
}

/** The repository's waiting runs, and the environments of each waiting for a protection rule, gated as the webhook would. */
async function gateWaitingRuns(deps: GitHubDeps, repository: string): Promise<number> {
  const installationId = await deps.github.installationOf(repository);
  if (installationId === undefined) {
    deps.logger.warn({ repository }, 'the GitHub App is not installed on a gated repository');
    return 0;
  }
  const { workflow_runs: runs } = workflowRuns.parse(await deps.github.read(installationId, `/repos/${repository}/actions/runs?status=waiting&per_page=100`));
  let created = 0;
  for (const run of runs) {
    const pending = pendingDeployments.parse(await deps.github.read(installationId, `/repos/${repository}/actions/runs/${run.id}/pending_deployments`));
    for (const { environment } of pending) {
      if (await store.findGate(deps.db, run.id, environment.name)) continue;
      const outcome = await gateRun(deps, {
        repository,
        installationId,
        runId: run.id,
        environment: environment.name,
        sha: run.head_sha,
        ref: run.head_branch ? `refs/heads/${run.head_branch}` : run.head_sha,
        run,
      });
      if ('change' in outcome && outcome.created) {
        created += 1;
        deps.logger.info({ repository, run: run.id, environment: environment.name }, 'gated a waiting run no webhook announced');
      }
    }
  }
  return created;
}
