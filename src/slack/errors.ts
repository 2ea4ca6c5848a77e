import type { AllMiddlewareArgs, AnyMiddlewareArgs, Middleware, RespondFn } from '@slack/bolt';
import { ErrorCode } from '@slack/web-api';
import { isTandemError, TandemError } from '../errors';
import type { Logger } from '../log';
import { acknowledgementOf } from './ack';
import { modal, section } from './blocks';
import { tellAfterAck } from './replies';
import { isDatabaseUnavailable } from '../db/unavailable';

/** Slack's own error string ("name_taken", "missing_scope"), or a short code for transport failures. */
export function slackErrorCode(error: unknown): string {
  const coded = error as { code?: string; data?: { error?: string }; statusCode?: number };
  switch (coded?.code) {
    case ErrorCode.PlatformError:
      return coded.data?.error ?? 'unknown_error';
    case ErrorCode.RateLimitedError:
      return 'ratelimited';
    case ErrorCode.HTTPError:
      return `http_${coded.statusCode ?? 'error'}`;
    case ErrorCode.RequestError:
      return 'slack_unreachable';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

const remedies: Record<string, string> = {
  missing_scope: 'Tandem lacks a Slack permission it needs. A workspace admin should reinstall it from manifests/slack-app.yaml.',
  not_authed: 'Tandem’s bot token is missing. Check SLACK_BOT_TOKEN.',
  invalid_auth: 'Slack rejected Tandem’s bot token. Check SLACK_BOT_TOKEN.',
  token_revoked: 'Tandem’s bot token was revoked. Reinstall the app.',
  account_inactive: 'Tandem’s bot token belongs to a deactivated app. Reinstall the app.',
  restricted_action: 'A workspace setting stops apps from doing this. Ask a workspace admin.',
  channel_not_found: 'The channel does not exist, or Tandem cannot see it.',
  not_in_channel: 'Tandem is not a member of that channel. Invite it with /invite @Tandem.',
  is_archived: 'The channel is archived.',
  user_not_found: 'That user is not in this workspace.',
  user_is_restricted: 'Guests cannot be invited to this channel.',
  cant_invite: 'Slack does not allow inviting that user here.',
  ratelimited: 'Slack is rate limiting Tandem. It will catch up shortly.',
  slack_unreachable: 'Slack could not be reached. Try again in a moment.',
};

/** A sentence for people: what Slack said and what would fix it. */
export function describeSlackError(error: unknown): string {
  return describeSlackErrorCode(slackErrorCode(error));
}

/** The same, for an error code already taken from Slack's answer (an outbox row's last error). */
export function describeSlackErrorCode(code: string): string {
  const remedy = remedies[code];
  return remedy ? `Slack said \`${code}\`. ${remedy}` : `Slack said \`${code}\`.`;
}

/** Slack's own answers that mean "not now" rather than "no". */
const slackServerErrors = new Set(['fatal_error', 'internal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

/**
 * When a failed call means Slack is down, unreachable or rate limiting (not that it
 * refused the request): how long to wait before asking again. Undefined otherwise.
 */
export function slackUnavailableFor(error: unknown): number | undefined {
  const coded = error as { code?: string; data?: { error?: string }; retryAfter?: number };
  switch (coded?.code) {
    case ErrorCode.RateLimitedError:
      return coded.retryAfter ?? 30;
    case ErrorCode.HTTPError:
    case ErrorCode.RequestError:
      return 10;
    case ErrorCode.PlatformError:
      return slackServerErrors.has(coded.data?.error ?? '') ? 10 : undefined;
    default:
      return undefined;
  }
}

/** What a person in Slack is told while the database is down. */
export const databaseUnavailableMessage = 'Tandem cannot reach its database right now, so nothing was changed. Please try again in a minute.';

/** True for an error the Web API client raised: Slack refused, rate limited, or could not be reached. */
function isSlackApiError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (Object.values(ErrorCode) as string[]).includes(code);
}

/**
 * The one error path of every listener (commands, actions, views, shortcuts, options,
 * events), registered as the first global middleware: a listener throws, and the
 * person is told. Before the ack the answer goes in it (field errors on a form, an
 * ephemeral reply to a command); after it, ephemerally or in a DM. Tandem's own
 * errors are written for people and shown as they are; anything else is logged and
 * described as "Tandem could not …".
 */
export function answerFailures(logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    try {
      await args.next();
    } catch (error) {
      await answerWith(args, messageForFailure(error, args.body, logger), logger, error);
    }
  };
}

/**
 * Tells the person behind a request `text`, in the ack while Slack still waits for
 * it, otherwise after it. `error` places a form's message on the field it concerns.
 */
export async function answerWith(args: AnyMiddlewareArgs & AllMiddlewareArgs, text: string, logger: Logger, error?: unknown): Promise<void> {
  const acknowledgement = acknowledgementOf(args.context);
  if (acknowledgement && !acknowledgement.done) {
    const body = args.body as { type?: unknown; command?: unknown; view?: unknown };
    try {
      if (typeof body.command === 'string') return await acknowledgement.ack({ response_type: 'ephemeral', text });
      if (body.type === 'view_submission') return await acknowledgement.ack(formAnswer(body.view, text, error));
      // A menu asks again at every keystroke: it shows no choices, and nobody gets a message per letter typed.
      if (body.type === 'block_suggestion') return await acknowledgement.ack({ options: [] });
      await acknowledgement.ack();
    } catch (ackError) {
      logger.warn({ err: ackError }, 'could not acknowledge a failed slack request');
      return;
    }
  }
  const respond = 'respond' in args ? (args.respond as RespondFn | undefined) : undefined;
  await tellAfterAck({ body: args.body, client: args.client, respond, botUserId: args.context.botUserId }, text, logger);
}

/** What the person is told about `error`; an unexpected one is logged here, once. */
function messageForFailure(error: unknown, body: unknown, logger: Logger): string {
  if (isTandemError(error)) return error.message;
  if (isDatabaseUnavailable(error)) {
    logger.warn({ err: error, request: requestOf(body) }, 'slack listener could not reach the database');
    return databaseUnavailableMessage;
  }
  const attempt = attemptOf(body);
  logger.error({ err: error, request: requestOf(body) }, 'slack listener failed');
  if (isSlackApiError(error)) return `Tandem could not ${attempt}. ${describeSlackError(error)} (logged)`;
  return `Tandem could not ${attempt} because of a problem on its side (logged). Please try again; if it keeps happening, tell whoever runs Tandem.`;
}

/** Enough of a request to find its listener in the logs, and nothing a person typed. */
function requestOf(body: unknown) {
  const request = (body ?? {}) as Record<string, unknown> & { view?: { callback_id?: unknown }; actions?: Array<{ action_id?: unknown }>; event?: { type?: unknown } };
  return {
    type: request.type ?? (request.command ? 'command' : undefined),
    command: request.command,
    callbackId: request.callback_id ?? request.view?.callback_id,
    actionId: Array.isArray(request.actions) ? request.actions[0]?.action_id : request.action_id,
    event: request.event?.type,
  };
}

/** What the person was doing, in their words. */
function attemptOf(body: unknown): string {
  const request = (body ?? {}) as { type?: unknown; command?: unknown; event?: { type?: unknown } };
  if (typeof request.command === 'string') return `run \`${request.command}\``;
  switch (request.type) {
    case 'block_actions':
      return 'act on that click';
    case 'view_submission':
      return 'finish what this form asked';
    case 'view_closed':
      return 'close that form';
    case 'shortcut':
    case 'message_action':
      return 'run that shortcut';
    case 'block_suggestion':
      return 'list the choices';
    default:
      return request.event?.type === 'app_home_opened' ? 'show your Home' : 'act on what you did';
  }
}

/** A field error in Tandem's errors: `field` as the API names it, `block` where a form shows it when that differs. */
interface FieldDetail {
  field: string;
  message: string;
  block?: string;
}

const isFieldDetail = (detail: unknown): detail is FieldDetail =>
  typeof (detail as FieldDetail)?.field === 'string' && typeof (detail as FieldDetail).message === 'string';

/**
 * Names the form blocks of fields the API calls differently, for a listener whose
 * modal does: `.catch(onFormFields({ justification: 'description' }))`.
 */
export function onFormFields(blocks: Record<string, string>): (error: unknown) => never {
  return (error) => {
    if (!isTandemError(error) || !Array.isArray(error.details)) throw error;
    const details = error.details.map((detail: unknown) =>
      isFieldDetail(detail) && blocks[detail.field] ? { ...detail, block: blocks[detail.field] } : detail,
    );
    throw new TandemError(error.kind, error.code, error.message, details);
  };
}

/**
 * A failed submission keeps its modal open with the message on the field it concerns
 * (or the first field), so nothing typed is lost; a modal without inputs is replaced
 * by the message.
 */
function formAnswer(view: unknown, text: string, error: unknown) {
  const inputs = inputBlocks(view);
  const first = inputs[0];
  if (!first) return { response_action: 'update', view: modal('tandem.failed', 'Tandem', [section(text)]) };
  const details = isTandemError(error) && Array.isArray(error.details) ? error.details.filter(isFieldDetail) : [];
  const place = (detail: FieldDetail | undefined) => {
    const block = detail?.block ?? detail?.field;
    return block && inputs.includes(block) ? block : first;
  };
  if (details.length <= 1) return { response_action: 'errors', errors: { [place(details[0])]: sentence(text) } };
  const errors: Record<string, string> = {};
  for (const detail of details) {
    const block = place(detail);
    const line = sentence(`${detail.field.replaceAll('_', ' ')} ${detail.message}`);
    errors[block] = errors[block] ? `${errors[block]} ${line}` : line;
  }
  return { response_action: 'errors', errors };
}

/** The input blocks of a submitted view, in the order shown; Slack accepts errors only on those. */
function inputBlocks(view: unknown): string[] {
  const shown = (view as { blocks?: unknown } | undefined)?.blocks;
  if (!Array.isArray(shown)) return [];
  return shown
    .filter((block): block is { type: string; block_id: string } => block?.type === 'input' && typeof block.block_id === 'string')
    .map((block) => block.block_id);
}

const sentence = (text: string) => text.replace(/^\w/, (letter) => letter.toUpperCase());
