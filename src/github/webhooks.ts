import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhooks } from '@octokit/webhooks';
import type { z } from 'zod';
import { sendJson } from '../api/router';
import { BodyTooLarge, readBody } from '../http/body';
import type { GitHubDeps } from './deps';
import { recordDeploymentStatus } from './deployments';
import { gateRun } from './gate';
import { deploymentStatusCreated, protectionRuleRequested, runIdOfCallback } from './model';
import * as store from './store';

/** GitHub caps webhook payloads at 25 MB. */
const maxPayloadBytes = 25 * 1024 * 1024;
const handledEvents = new Set(['deployment_protection_rule', 'deployment_status']);

/**
 * POST /github/webhooks: a delivery with a valid `X-Hub-Signature-256` is recorded,
 * answered at once (GitHub gives up after 10 s and does not redeliver by itself), and
 * its work done after the answer. A delivery recorded before is answered the same way
 * and not done twice.
 */
export function createWebhookHandler(deps: GitHubDeps) {
  const lanes = new Lanes(deliveryLanes);
  const signatures = new Webhooks({ secret: deps.webhookSecret });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendJson(res, 405, { error: { code: 'method_not_allowed', message: 'GitHub posts webhooks to this URL.' } });
    }
    let body: string;
    try {
      body = await readBody(req, maxPayloadBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      return sendJson(res, 413, { error: { code: 'payload_too_large', message: `Webhook payloads are limited to ${maxPayloadBytes} bytes.` } });
    }
    const signature = header(req, 'x-hub-signature-256');
    if (!signature || !body || !(await signatures.verify(body, signature).catch(() => false))) {
      return sendJson(res, 401, { error: { code: 'invalid_signature', message: 'The X-Hub-Signature-256 header is missing or does not match the payload.' } });
    }
    const event = header(req, 'x-github-event') ?? '';
    const deliveryId = header(req, 'x-github-delivery') ?? '';
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { error: { code: 'malformed_json', message: 'The payload is not JSON.' } });
    }
    if (!deliveryId || typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      return sendJson(res, 400, { error: { code: 'validation_failed', message: 'A delivery needs an X-GitHub-Delivery header and a JSON object.' } });
    }
    if (!handledEvents.has(event)) return sendJson(res, 200, { status: 'ignored', event });
    let recorded: boolean;
    try {
      recorded = await store.recordDelivery(deps.db, { id: deliveryId, event, payload: payload as Record<string, unknown>, receivedAt: deps.clock.now() });
    } catch (error) {
      deps.logger.error({ err: error, delivery: deliveryId }, 'could not record a github delivery');
      res.setHeader('retry-after', '30');
      return sendJson(res, 503, { error: { code: 'dependency_unavailable', message: 'Tandem could not record the delivery; redeliver it.' } });
    }
    sendJson(res, 202, { status: recorded ? 'accepted' : 'duplicate', delivery: deliveryId });
    // A redelivery of one whose work failed is worth another try now; one already done is skipped inside.
    deps.background.run(() => lanes.run(() => processDelivery(deps, deliveryId)));
  };
}

/**
 * Deliveries worked on at once in this instance. A burst of protection-rule requests
 * for one service takes turns on its change budget anyway; letting all of them wait
 * on database connections would starve the acknowledgements of the next deliveries.
 */
const deliveryLanes = 4;

class Lanes {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    // A lane freed by a finished delivery is handed to the next waiting one as it is.
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

/** Does a recorded delivery's work once; a failure leaves it for the reconcile job. */
export async function processDelivery(deps: GitHubDeps, deliveryId: string): Promise<void> {
  const delivery = await store.findDelivery(deps.db, deliveryId);
  if (!delivery || delivery.processedAt) return;
  await store.noteDeliveryAttempt(deps.db, deliveryId);
  try {
    const note = await handle(deps, delivery.event, delivery.payload);
    if (note.startsWith('ignored')) deps.logger.info({ delivery: deliveryId, event: delivery.event, note }, 'github delivery ignored');
    await store.markDeliveryProcessed(deps.db, deliveryId, deps.clock.now(), note);
  } catch (error) {
    deps.logger.warn({ err: error, delivery: deliveryId, event: delivery.event }, 'github delivery failed; the reconcile job tries it again');
    await store.noteDeliveryError(deps.db, deliveryId, error instanceof Error ? error.message : String(error));
  }
}

async function handle(deps: GitHubDeps, event: string, payload: Record<string, unknown>): Promise<string> {
  if (event === 'deployment_protection_rule') {
    if (payload.action !== 'requested') return `ignored: action ${String(payload.action)}`;
    const parsed = protectionRuleRequested.safeParse(payload);
    if (!parsed.success) return unreadable(parsed.error);
    const rule = parsed.data;
    const runId = runIdOfCallback(rule.deployment_callback_url);
    if (runId === undefined) return 'ignored: the callback URL names no workflow run';
    const outcome = await gateRun(deps, {
      repository: rule.repository.full_name,
      installationId: rule.installation.id,
      runId,
      environment: rule.environment,
      sha: rule.sha,
      ref: rule.ref,
      login: rule.sender?.login,
    });
    return 'ignored' in outcome ? `ignored: ${outcome.ignored}` : `change ${outcome.change.id}${outcome.created ? '' : ' (found)'}`;
  }
  const parsed = deploymentStatusCreated.safeParse(payload);
  if (!parsed.success) return unreadable(parsed.error);
  return recordDeploymentStatus(deps, parsed.data);
}

/** A payload the schema cannot read is ignored, with what was wrong with it. */
const unreadable = (error: z.ZodError): string => `ignored: ${error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
