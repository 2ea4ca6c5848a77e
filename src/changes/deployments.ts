import { findService, unknownService } from '../catalog';
import type { ChangeRow, DeploymentRow } from '../db/schema';
import { conflict, notFound } from '../errors';
import type { OutboxMessage } from '../slack/outbox';
import { unitOfWork } from '../unit-of-work';
import { deploymentNotice } from './blocks';
import type { ChangeDeps } from './deps';
import { requesterMessages } from './messaging';
import { changeKey, deployRefusal, isProduction } from './model';
import * as store from './store';
import { markFailed, refreshMessages, threadNotice } from './transitions';

/** Deployments reported by pipelines, and what they do to the change they carry out. */

interface DeploymentReport {
  service: string;
  environment: string;
  status: 'success' | 'failure';
  commitSha?: string;
  changeId?: string;
  startedAt?: Date;
  finishedAt?: Date;
  committedAt?: Date;
  url?: string;
  /** Rework: a fix or rollback nobody planned (DORA's deployment rework rate). */
  unplanned?: boolean;
  reportedBy: string;
}

/**
 * Records a deployment. With a change: it must be approved (409 otherwise) and of
 * the same service; success in the change's environment marks it deployed, and a
 * failure in production marks it failed.
 */
export async function recordDeployment(deps: ChangeDeps, report: DeploymentReport): Promise<{ deployment: DeploymentRow; change?: ChangeRow }> {
  if (!findService(deps.catalog, report.service)) throw unknownService(deps.catalog, report.service, 'validation_failed');
  return unitOfWork(deps, async ({ tx, send, emit }) => {
    const now = deps.clock.now();
    let change: ChangeRow | undefined;
    if (report.changeId) {
      change = await store.lockChange(tx, report.changeId);
      if (!change) throw notFound('change_not_found', `There is no change ${report.changeId}.`);
      const key = changeKey(change.number);
      if (change.service !== report.service) {
        throw conflict('service_mismatch', `${key} is a change to ${change.service}, not ${report.service}.`);
      }
      const refusal = deployRefusal(change.status);
      if (refusal) throw conflict('change_not_approved', `${key} ${refusal}, so it cannot be deployed.`);
    }
    const deployment = await store.insertDeployment(tx, {
      service: report.service,
      environment: report.environment,
      status: report.status,
      commitSha: report.commitSha ?? change?.commitSha ?? null,
      changeId: change?.id ?? null,
      startedAt: report.startedAt ?? null,
      finishedAt: report.finishedAt ?? now,
      committedAt: report.committedAt ?? null,
      url: report.url ?? null,
      unplanned: report.unplanned ?? false,
      reportedBy: report.reportedBy,
      createdAt: now,
    });
    if (!change) return { deployment };
    const messages: OutboxMessage[] = [];
    const sameEnvironment = change.environment === report.environment;
    if (report.status === 'success' && sameEnvironment && change.status === 'approved') {
      change = await store.updateChange(tx, change.id, { status: 'deployed', deployedAt: deployment.finishedAt, updatedAt: now });
      await store.appendAudit(tx, { changeId: change.id, at: now, actor: report.reportedBy, action: 'deployed', details: { deployment: deployment.id } });
    } else if (report.status === 'failure' && isProduction(report.environment)) {
      change = await markFailed(tx, change, `the ${report.environment} deployment failed`, report.reportedBy, now);
    }
    messages.push(...(await threadNotice(tx, deps.catalog, change, deploymentNotice(change, deployment), `deployment-${deployment.id}`)));
    messages.push(...(await refreshMessages(tx, deps.catalog, change)));
    if (change.status === 'deployed' || change.status === 'failed') messages.push(...requesterMessages(change));
    await send(messages);
    emit({ kind: 'change', change });
    return { deployment, change };
  });
}
