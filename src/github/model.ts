import { z } from 'zod';
import { withoutNul } from '../fields';

/** The GitHub gate's pure rules: what a webhook says, what a run's change is called, how long to wait before retrying. */

const text = z.string().transform(withoutNul);
const id = z.number().int().nonnegative();

const repository = z.object({ full_name: text });
const installation = z.object({ id });

/** `deployment_protection_rule`, action `requested`: a run waits on Tandem's rule for an environment. */
export const protectionRuleRequested = z.object({
  action: z.literal('requested'),
  environment: text,
  event: text.optional(),
  sha: text,
  ref: text,
  deployment_callback_url: z.url(),
  repository,
  installation,
  sender: z.object({ login: text }).optional(),
});
export type ProtectionRuleRequested = z.infer<typeof protectionRuleRequested>;

/** `deployment_status`: a deployment reached a state; only the finished ones are recorded. */
export const deploymentStatusCreated = z.object({
  deployment_status: z.object({
    id,
    state: text,
    environment: text.optional(),
    target_url: text.nullish(),
    log_url: text.nullish(),
    created_at: z.iso.datetime({ offset: true }),
  }),
  deployment: z.object({ id, sha: text, ref: text.nullish(), environment: text, created_at: z.iso.datetime({ offset: true }) }),
  workflow_run: z.object({ id, html_url: text.nullish() }).nullish(),
  repository,
  installation,
});
export type DeploymentStatusCreated = z.infer<typeof deploymentStatusCreated>;

/** What Tandem reads of a workflow run (GET /repos/{o}/{r}/actions/runs/{id}). */
export const workflowRun = z.object({
  id,
  name: text.nullish(),
  display_title: text.nullish(),
  head_sha: text,
  head_branch: text.nullish(),
  html_url: text,
  actor: z.object({ login: text }).nullish(),
  triggering_actor: z.object({ login: text }).nullish(),
  head_commit: z.object({ message: text, author: z.object({ email: text.nullish(), name: text.nullish() }).nullish() }).nullish(),
});
export type WorkflowRun = z.infer<typeof workflowRun>;

export const workflowRuns = z.object({ workflow_runs: z.array(workflowRun) });
export const pendingDeployments = z.array(z.object({ environment: z.object({ name: text }) }));
export const commitOf = z.object({
  commit: z.object({ author: z.object({ date: z.string() }).nullish(), committer: z.object({ date: z.string() }).nullish() }),
});

/** The run a protection rule callback belongs to: `…/actions/runs/{run_id}/deployment_protection_rule`. */
export function runIdOfCallback(callbackUrl: string): number | undefined {
  const match = new URL(callbackUrl).pathname.match(/\/actions\/runs\/(\d+)\/deployment_protection_rule$/);
  return match ? Number(match[1]) : undefined;
}

export const callbackPath = (repository: string, runId: number) => `/repos/${repository}/actions/runs/${runId}/deployment_protection_rule`;

/** The change request's idempotency key: one change per run and environment. */
export const gateRequestKey = (runId: number, environment: string) => `github:run:${runId}:${environment.toLowerCase()}`;

/** A Tandem environment name is lower case letters, digits, - and _; a GitHub name that maps to anything else is not gated. */
export const isTandemEnvironment = (name: string) => /^[a-z0-9][a-z0-9_-]{0,63}$/.test(name);

const maxTitle = 150;

/** "Deploy: Fix the rounding of refunds (abc1234)": the workflow, the head commit's first line, the short SHA. */
export function gateTitle(run: WorkflowRun): string {
  const firstLine = (run.head_commit?.message ?? run.display_title ?? '').split('\n')[0]?.trim() ?? '';
  const workflow = run.name?.trim() || 'Workflow run';
  const suffix = ` (${run.head_sha.slice(0, 7)})`;
  const body = firstLine ? `${workflow}: ${firstLine}` : workflow;
  const room = maxTitle - suffix.length;
  return (body.length > room ? `${body.slice(0, room - 1)}…` : body) + suffix;
}

/** Who asked for the deployment: the Slack user of the commit author's e-mail, else the GitHub login. */
export const githubRequester = (login: string) => `github:${login}`;

/** Deployment states that finish a deployment, and how Tandem records them. */
export function finishedDeploymentStatus(state: string): 'success' | 'failure' | undefined {
  if (state === 'success') return 'success';
  if (state === 'failure' || state === 'error') return 'failure';
  return undefined;
}

/** GitHub keeps a callback's comment short; longer explanations are cut. */
export const maxCommentLength = 1000;
export const clip = (comment: string) => (comment.length > maxCommentLength ? `${comment.slice(0, maxCommentLength - 1)}…` : comment);

/** Retry delay after a failed call: doubling from 5 s to at most 10 minutes, or what GitHub's Retry-After asks. */
export function retryDelayMs(attempts: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0) return Math.min(retryAfterSeconds, 3600) * 1000;
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 600_000);
}

export type CallOutcome = { kind: 'sent' } | { kind: 'settled'; note: string } | { kind: 'retry'; afterMs: number; error: string } | { kind: 'failed'; error: string };

/** 2xx sent; 422 means the run was already decided; 5xx, 429, 401 (a token to renew) and network errors are retried; other 4xx fail. */
export function classifyCall(status: number | undefined, attempts: number, message: string, retryAfterSeconds?: number): CallOutcome {
  if (status !== undefined && status >= 200 && status < 300) return { kind: 'sent' };
  if (status === 422) return { kind: 'settled', note: `422: ${message}` };
  if (status === undefined || status >= 500 || status === 429 || status === 408 || status === 401 || (status === 403 && retryAfterSeconds !== undefined)) {
    return { kind: 'retry', afterMs: retryDelayMs(attempts, retryAfterSeconds), error: `${status ?? 'network'}: ${message}` };
  }
  return { kind: 'failed', error: `${status}: ${message}` };
}
