import { createHash } from 'node:crypto';
import type { GateConfig } from '../config';

/**
 * The pipeline step: request a change, wait for the decision, say it, and exit 0
 * only when the change may be deployed. A retried step (same service, environment,
 * title, ref and commit) finds the change it requested before, through the
 * Idempotency-Key, instead of asking twice.
 */

export interface GateRequest {
  service: string;
  environment: string;
  title: string;
  type: 'standard' | 'normal' | 'emergency';
  ref?: string;
  commitSha?: string;
  description?: string;
  requestedBy?: string;
  timeoutMs: number;
}

export const gateExitCodes = { approved: 0, refused: 1, usage: 2, timedOut: 3, unavailable: 4 } as const;

interface ChangeAnswer {
  id: string;
  key: string;
  status: string;
  type: string;
  service: string;
  environment: string;
  decision: { by: string; at: string; reason: string | null } | null;
  policy: { summary: string } | null;
}

export interface GateIo {
  out: (line: string) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const maxWaitSeconds = 60;

/** "30m", "90s", "2h", "45" (seconds) → milliseconds. */
export function parseTimeout(text: string): number | undefined {
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

export async function runGate(config: GateConfig, request: GateRequest, io: GateIo): Promise<number> {
  const deadline = io.now() + request.timeoutMs;
  const say = (line: string) => io.out(`tandem gate: ${line}`);
  const idempotencyKey = createHash('sha256')
    .update([request.service, request.environment, request.title, request.ref ?? '', request.commitSha ?? ''].join('\n'))
    .digest('hex')
    .slice(0, 40);

  const created = await call(config, io, deadline, 'POST', '/changes', {
    body: {
      service: request.service,
      environment: request.environment,
      title: request.title,
      type: request.type,
      ...(request.ref ? { ref: request.ref } : {}),
      ...(request.commitSha ? { commit_sha: request.commitSha } : {}),
      ...(request.description ? { description: request.description } : {}),
      ...(request.requestedBy ? { requested_by: request.requestedBy } : {}),
    },
    idempotencyKey,
  });
  if (created.kind !== 'ok') return report(say, created);
  let change = created.change;
  say(`requested ${change.key} "${request.title}" (${change.type} change to ${change.service} in ${change.environment})`);
  if (change.status === 'pending') {
    say(`waiting for approval in Slack (up to ${Math.round(request.timeoutMs / 60_000)}m)${change.policy ? `; ${change.policy.summary}` : ''}`);
  }
  while (change.status === 'pending') {
    const remainingSeconds = Math.floor((deadline - io.now()) / 1000);
    if (remainingSeconds <= 0) {
      say(`${change.key} is still waiting for approval; giving up after the timeout`);
      return gateExitCodes.timedOut;
    }
    const polled = await call(config, io, deadline, 'GET', `/changes/${change.id}?wait=${Math.min(maxWaitSeconds, remainingSeconds)}`);
    if (polled.kind !== 'ok') return report(say, polled);
    change = polled.change;
  }
  const decision = change.decision ? ` by ${change.decision.by} at ${change.decision.at}${change.decision.reason ? `: ${change.decision.reason}` : ''}` : '';
  say(`${change.key} ${change.status}${decision}`);
  return change.status === 'approved' || change.status === 'deployed' ? gateExitCodes.approved : gateExitCodes.refused;
}

type CallResult = { kind: 'ok'; change: ChangeAnswer } | { kind: 'refused'; message: string } | { kind: 'unavailable'; message: string };

function report(say: (line: string) => void, result: Exclude<CallResult, { kind: 'ok' }>): number {
  say(result.message);
  return result.kind === 'refused' ? gateExitCodes.usage : gateExitCodes.unavailable;
}

/** One API call, retried with backoff while Tandem is unreachable or failing, until the deadline. */
async function call(
  config: GateConfig,
  io: GateIo,
  deadline: number,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; idempotencyKey?: string } = {},
): Promise<CallResult> {
  let lastProblem = '';
  for (let attempt = 0; io.now() < deadline || attempt === 0; attempt += 1) {
    try {
      const response = await fetch(`${config.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${config.token}`,
          ...(options.body ? { 'content-type': 'application/json' } : {}),
          ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        },
        body: options.body ? JSON.stringify(options.body) : undefined,
      });
      const answer = (await response.json().catch(() => ({}))) as ChangeAnswer & { error?: { message?: string; code?: string } };
      if (response.ok) return { kind: 'ok', change: answer };
      const message = `Tandem refused (${response.status} ${answer.error?.code ?? ''}): ${answer.error?.message ?? response.statusText}`;
      // A request still running elsewhere under the same key: wait for it like any other transient answer.
      if (response.status < 500 && response.status !== 409 && response.status !== 429) return { kind: 'refused', message };
      lastProblem = message;
    } catch (error) {
      lastProblem = `Tandem could not be reached at ${config.url} (${(error as Error).message})`;
    }
    await io.sleep(Math.min(30_000, 1_000 * 2 ** attempt));
  }
  return { kind: 'unavailable', message: `${lastProblem}; giving up after the timeout` };
}
