import { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { parseBody } from '../api/errors';
import type { ApiRoute } from '../api/router';
import type { ChangeRow, DeploymentRow } from '../db/schema';
import { dateTime, hasNul, inOrder, nulMessage, optionalTextField, textField } from '../fields';
import { invalid, notFound, unavailable } from '../errors';
import { boltLogger } from '../log';
import { slackErrorCode, slackUnavailableFor } from '../slack/errors';
import { isSlackUserId } from '../slack/text';
import type { Clock } from '../time';
import { changeKey, changeRisks, changeTypes, isDecided, maxTitleLength } from './model';
import { findChangeByReference } from './attribution';
import type { ChangeDeps } from './deps';
import { recordDeployment } from './deployments';
import { requestChange } from './request';
import { findChangeById, listChanges } from './store';
import { decodeCursor, encodeCursor, pageLimit } from '../api/cursor';
import { findService, unknownService } from '../catalog';

const commitSha = z.string().regex(/^[0-9a-f]{7,64}$/i, 'must be a hexadecimal commit hash');
const environment = textField(64, { example: 'production' }).transform((value) => value.toLowerCase());

const changeBody = z.strictObject({
  service: textField(100),
  title: textField(maxTitleLength),
  type: z.enum(changeTypes, { error: 'must be standard, normal or emergency' }),
  environment,
  risk: z.enum(changeRisks, { error: 'must be low, medium or high' }).optional(),
  ref: optionalTextField(255),
  commit_sha: commitSha.optional(),
  description: optionalTextField(3000),
  justification: optionalTextField(3000),
  rollback_plan: optionalTextField(3000),
  planned_start: dateTime.optional(),
  planned_end: dateTime.optional(),
  requested_by: optionalTextField(255),
});

const listQuery = z
  .object({
    status: z.enum(['pending', 'approved', 'rejected', 'cancelled', 'deployed', 'failed'], { error: 'must be pending, approved, rejected, cancelled, deployed or failed' }).optional(),
    service: z.string().min(1).optional(),
    from: dateTime.optional(),
    to: dateTime.optional(),
    cursor: z.string().min(1).optional(),
    limit: pageLimit,
  })
  .refine((query) => !query.from || !query.to || query.from < query.to, { path: ['to'], message: 'must be after from' });

/** Where a page ended: the last change's requested_at and id. */
const listPosition = z.tuple([z.iso.datetime(), z.uuid()]).transform(([at, id]) => ({ requestedAt: new Date(at), id }));

function parseQuery<T extends z.ZodType>(schema: T, query: URLSearchParams): z.infer<T> {
  const result = schema.safeParse(Object.fromEntries(query));
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(query)', message: issue.message }));
  throw invalid('validation_failed', `The query is not valid: ${details.map((detail) => `${detail.field} ${detail.message}`).join('; ')}.`, details);
}

/** How far a pipeline's clock may run ahead of Tandem's when it leaves finished_at to "now". */
const clockSkewMs = 60_000;

/** A deployment's times are in order: committed, started, finished (now, when not given). */
const deploymentBody = (clock: Clock) =>
  z
    .strictObject({
      service: textField(100),
      environment,
      status: z.enum(['success', 'failure'], { error: 'must be success or failure' }),
      commit_sha: commitSha.optional(),
      change_id: optionalTextField(100),
      started_at: dateTime.optional(),
      finished_at: dateTime.optional(),
      committed_at: dateTime.optional(),
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).refine((value) => !hasNul(value), nulMessage).optional(),
      unplanned: z.boolean({ error: 'must be true or false' }).optional(),
    })
    .superRefine((body, ctx) => {
      const finishedAt = body.finished_at ?? new Date(clock.now().getTime() + clockSkewMs);
      const finished = body.finished_at ? 'finished_at' : 'finished_at (now, as finished_at is not given)';
      const problem = (field: 'committed_at' | 'started_at', message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
      if (!inOrder(body.committed_at, body.started_at)) problem('committed_at', 'must not be after started_at: a deployment starts after its commit');
      else if (!inOrder(body.committed_at, finishedAt)) problem('committed_at', `must not be after ${finished}: a deployment finishes after its commit`);
      if (!inOrder(body.started_at, finishedAt)) problem('started_at', `must not be after ${finished}`);
    });

const waitMessage = 'must be a whole number of seconds from 0 to 60, such as wait=30';
/** Digits only: `Number()` would also read `0x10`, `1e1` and ` 5` as numbers. */
const waitQuery = z
  .string()
  .regex(/^\d{1,2}$/, waitMessage)
  .transform(Number)
  .refine((seconds) => seconds <= 60, waitMessage);

/** How often a waiting request re-reads the change, in case a wake-up was lost with a dropped connection. */
const recheckMs = 15_000;

export function changeRoutes(deps: ChangeDeps): ApiRoute[] {
  const lookups = requesterLookups(deps);
  const deployments = deploymentBody(deps.clock);
  return [
    {
      method: 'POST',
      path: '/changes',
      scopes: ['changes:write'],
      async handle({ body, token }) {
        const input = parseBody(changeBody, body);
        const requestedBy = input.requested_by ? await resolveRequester(lookups, input.requested_by) : `api:${token.name}`;
        const { change } = await requestChange(deps, {
          service: input.service,
          title: input.title,
          type: input.type,
          risk: input.risk,
          environment: input.environment,
          ref: input.ref,
          commitSha: input.commit_sha,
          description: input.description,
          justification: input.justification,
          rollbackPlan: input.rollback_plan,
          plannedStart: input.planned_start,
          plannedEnd: input.planned_end,
          requestedBy,
        });
        return { status: 201, body: changeResource(change) };
      },
    },
    {
      method: 'GET',
      path: '/changes',
      scopes: ['read', 'changes:write'],
      async handle({ query }) {
        const input = parseQuery(listQuery, query);
        if (input.service && !findService(deps.catalog, input.service)) throw unknownService(deps.catalog, input.service, 'validation_failed');
        const rows = await listChanges(deps.db, {
          status: input.status,
          service: input.service,
          from: input.from,
          to: input.to,
          after: input.cursor ? decodeCursor(input.cursor, listPosition) : undefined,
          limit: input.limit + 1,
        });
        const items = rows.slice(0, input.limit);
        const last = items.at(-1);
        const more = rows.length > input.limit && last;
        return { status: 200, body: { items: items.map(changeResource), next_cursor: more ? encodeCursor([last.requestedAt.toISOString(), last.id]) : null } };
      },
    },
    {
      method: 'GET',
      path: '/changes/:id',
      scopes: ['read', 'changes:write'],
      async handle(request) {
        const { params, query } = request;
        const wait = query.has('wait') ? parseWait(query.get('wait')) : 0;
        const change = await findChangeByReference(deps.db, params.id ?? '');
        if (!change) throw notFound('change_not_found', `There is no change ${params.id}.`);
        const current = wait > 0 ? await waitForDecision(deps, change, wait * 1000, request.signal) : change;
        return { status: 200, body: changeResource(current) };
      },
    },
    {
      method: 'POST',
      path: '/deployments',
      scopes: ['deployments:write'],
      async handle({ body, token }) {
        const input = parseBody(deployments, body);
        const change = input.change_id ? await findChangeByReference(deps.db, input.change_id) : undefined;
        if (input.change_id && !change) throw notFound('change_not_found', `There is no change ${input.change_id}.`);
        const { deployment, change: updated } = await recordDeployment(deps, {
          service: input.service,
          environment: input.environment,
          status: input.status,
          commitSha: input.commit_sha,
          changeId: change?.id,
          startedAt: input.started_at,
          finishedAt: input.finished_at,
          committedAt: input.committed_at,
          url: input.url,
          unplanned: input.unplanned,
          reportedBy: `api:${token.name}`,
        });
        return { status: 201, body: deploymentResource(deployment, updated) };
      },
    },
  ];
}

function parseWait(value: string | null): number {
  const result = waitQuery.safeParse(value);
  if (!result.success) throw invalid('validation_failed', `wait ${result.error.issues[0]?.message}.`, [{ field: 'wait', message: result.error.issues[0]?.message }]);
  return result.data;
}

/**
 * Holds the request until the change is decided, the wait is over or the client
 * leaves. It subscribes before each read, so a decision in between wakes it, and
 * holds no database connection while it waits.
 */
async function waitForDecision(deps: ChangeDeps, change: ChangeRow, waitMs: number, signal: AbortSignal): Promise<ChangeRow> {
  const deadline = Date.now() + waitMs;
  let current = change;
  while (!isDecided(current.status) && !signal.aborted) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const wake = deps.decisions.subscribe(current.id, Math.min(remaining, recheckMs), signal);
    current = (await findChangeById(deps.db, current.id)) ?? current;
    if (isDecided(current.status)) {
      wake.cancel();
      break;
    }
    await wake.decided;
    current = (await findChangeById(deps.db, current.id)) ?? current;
  }
  return current;
}

/**
 * Slack answers `requested_by` look-ups in one attempt: the pipeline waiting on this
 * answer retries a 503 itself, which beats holding its request through Slack's
 * backoff (or a rate limit's wait) while its own timeout runs out.
 */
function requesterLookups(deps: ChangeDeps): WebClient {
  return new WebClient(deps.slack.token, {
    slackApiUrl: deps.slack.slackApiUrl,
    logger: boltLogger(deps.logger),
    timeout: 5_000,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
}

/**
 * `requested_by` is a Slack user ID, or an e-mail address Slack knows. Slack not
 * knowing the person is the caller's mistake (422); Slack being down is not (503).
 */
async function resolveRequester(slack: WebClient, requestedBy: string): Promise<string> {
  const lookup = isSlackUserId(requestedBy)
    ? slack.users.info({ user: requestedBy })
    : /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(requestedBy)
      ? slack.users.lookupByEmail({ email: requestedBy })
      : undefined;
  if (!lookup) {
    throw invalid('validation_failed', 'requested_by must be a Slack user ID (U…) or an e-mail address.', [
      { field: 'requested_by', message: 'must be a Slack user ID (U…) or an e-mail address' },
    ]);
  }
  try {
    const { user } = await lookup;
    if (!user?.id) throw new Error('no user in the answer');
    return user.id;
  } catch (error) {
    const code = slackErrorCode(error);
    const retryAfter = slackUnavailableFor(error);
    if (retryAfter !== undefined) {
      throw unavailable(
        'dependency_unavailable',
        `Slack could not be asked who requested_by ${requestedBy} is (${code}); nothing was recorded. Retry in ${retryAfter} seconds, or leave out requested_by.`,
        retryAfter,
      );
    }
    const unknown = code === 'users_not_found' || code === 'user_not_found';
    throw invalid(
      'validation_failed',
      unknown ? `requested_by: Slack has no user ${requestedBy}.` : `requested_by could not be checked with Slack (${code}).`,
      [{ field: 'requested_by', message: unknown ? `no Slack user ${requestedBy}` : `could not be checked (${code})` }],
    );
  }
}

export function changeResource(change: ChangeRow) {
  const decided = change.decidedAt !== null && change.decidedBy !== null;
  return {
    id: change.id,
    number: change.number,
    key: changeKey(change.number),
    service: change.service,
    title: change.title,
    type: change.type,
    risk: change.risk,
    environment: change.environment,
    status: change.status,
    ref: change.ref,
    commit_sha: change.commitSha,
    description: change.description,
    rollback_plan: change.rollbackPlan,
    justification: change.justification,
    planned_start: change.plannedStart?.toISOString() ?? null,
    planned_end: change.plannedEnd?.toISOString() ?? null,
    conflicts: change.conflicts.map(({ kind, key, message }) => ({ kind, ...(key ? { key } : {}), message })),
    requested_by: change.requestedBy,
    requested_at: change.requestedAt.toISOString(),
    sprint: change.sprint,
    decision: decided
      ? {
          by: change.decidedBy!.join(', '),
          at: change.decidedAt!.toISOString(),
          reason: change.decisionReason,
          ...(change.policy && change.decidedBy!.includes('policy') ? { policy: change.policy } : {}),
        }
      : null,
    policy: change.policy,
    review_required: change.reviewRequired,
    deployed_at: change.deployedAt?.toISOString() ?? null,
    failed_at: change.failedAt?.toISOString() ?? null,
    failure_reason: change.failureReason,
    updated_at: change.updatedAt.toISOString(),
  };
}

export function deploymentResource(deployment: DeploymentRow, change?: ChangeRow) {
  return {
    id: deployment.id,
    service: deployment.service,
    environment: deployment.environment,
    status: deployment.status,
    commit_sha: deployment.commitSha,
    change_id: deployment.changeId,
    change: change ? { id: change.id, key: changeKey(change.number), status: change.status } : null,
    started_at: deployment.startedAt?.toISOString() ?? null,
    finished_at: deployment.finishedAt.toISOString(),
    committed_at: deployment.committedAt?.toISOString() ?? null,
    url: deployment.url,
    unplanned: deployment.unplanned,
    reported_by: deployment.reportedBy,
    created_at: deployment.createdAt.toISOString(),
  };
}

