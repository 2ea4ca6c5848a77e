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
  /** A number in [0, 1) for backoff jitter; Math.random unless a test pins it. */
  random?: () => number;
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

  const created = await call(config, io, deadline, 'POST', '/changes', 0, {
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
    const waitSeconds = Math.min(maxWaitSeconds, remainingSeconds);
    const polled = await call(config, io, deadline, 'GET', `/changes/${change.id}?wait=${waitSeconds}`, waitSeconds);
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

/** An attempt unanswered this long after the long-poll it asked for counts as a network failure. */
const answerWithinMs = 30_000;
const firstBackoffMs = 1_000;
const maxBackoffMs = 30_000;

/**
 * One API call, retried while Tandem is unreachable or says it cannot answer now
 * (5xx, 429, and 409 for a request still running under the same Idempotency-Key),
 * until the deadline: exponential backoff with jitter, and never sooner than the
 * answer's Retry-After. Any other 4xx is a refusal, at once.
 */
async function call(
  config: GateConfig,
  io: GateIo,
  deadline: number,
  method: 'GET' | 'POST',
  path: string,
  waitSeconds: number,
  options: { body?: unknown; idempotencyKey?: string } = {},
): Promise<CallResult> {
  const random = io.random ?? Math.random;
  let lastProblem = '';
  for (let attempt = 0; io.now() < deadline || attempt === 0; attempt += 1) {
    let retryAfterMs = 0;
    // Abandoned after its long-poll plus 30 s, and never more than 5 s past the deadline.
    const attemptMs = Math.min(waitSeconds * 1000 + answerWithinMs, Math.max(deadline - io.now(), 0) + 5_000);
    try {
      const response = await fetch(`${config.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${config.token}`,
          ...(options.body ? { 'content-type': 'application/json' } : {}),
          ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        },
        body: options.body ? JSON.stringify(options.body) : undefined,
        signal: AbortSignal.timeout(attemptMs),
      });
      const answer = (await response.json().catch(() => ({}))) as ChangeAnswer & { error?: { message?: string; code?: string } };
      if (response.ok) return { kind: 'ok', change: answer };
      const code = answer.error?.code ? ` ${answer.error.code}` : '';
      const said = `(${response.status}${code}): ${answer.error?.message ?? response.statusText}`;
      if (response.status < 500 && response.status !== 409 && response.status !== 429) return { kind: 'refused', message: `Tandem refused ${said}` };
      lastProblem = `Tandem could not answer ${said}`;
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), io.now());
    } catch (error) {
      lastProblem = `Tandem could not be reached at ${config.url} (${describeFetchError(error)})`;
    }
    const ceiling = Math.min(maxBackoffMs, firstBackoffMs * 2 ** attempt);
    const backoffMs = ceiling / 2 + random() * (ceiling / 2);
    const remainingMs = deadline - io.now();
    if (remainingMs <= 0) break;
    if (retryAfterMs >= remainingMs) {
      // Asked to wait longer than the timeout allows: say so now rather than at the timeout.
      return { kind: 'unavailable', message: `${lastProblem}; it asks to retry in ${Math.ceil(retryAfterMs / 1000)}s, after the timeout` };
    }
    const delayMs = Math.min(Math.max(backoffMs, retryAfterMs), remainingMs);
    io.out(`tandem gate: ${lastProblem}; retrying in ${Math.ceil(delayMs / 1000)}s`);
    await io.sleep(delayMs);
  }
  return { kind: 'unavailable', message: `${lastProblem}; giving up after the timeout` };
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now; 0 when absent or unreadable. */
function parseRetryAfter(header: string | null, now: number): number {
  if (!header) return 0;
  if (/^\d+$/.test(header.trim())) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}

function describeFetchError(error: unknown): string {
  const failure = error as Error & { cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError') return 'no answer in time';
  return failure.cause?.code ?? failure.cause?.message ?? failure.message;
}
