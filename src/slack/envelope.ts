import { parse as parseForm } from 'node:querystring';
import { z } from 'zod';

/**
 * The outer shape of what Slack posts, checked before Bolt sees it. Bolt reads these
 * fields without checking them (`body.ssl_check` of a `null` body, `payload.user.id`,
 * `actions[0].action_id`), so a signed but malformed body would throw inside Bolt, and
 * a body of `null` used to end the process. What a listener reads beyond this is
 * validated by the listener (view state, button values).
 */
export type SlackBody =
  | { kind: 'request'; body: Record<string, unknown> }
  /** Slack does not send it, or Tandem has no use for it: answered 200 and dropped. */
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; reason: string };

const stringOrObject = z.union([z.string(), z.looseObject({})]);
const user = z.looseObject({ id: z.string() });
const responseUrls = z.array(z.looseObject({ response_url: z.string() })).optional();

/** Which schema applies follows Bolt's own order of checks (helpers.getTypeAndConversation). */
const eventBody = z.looseObject({
  type: z.literal('event_callback'),
  event: z.looseObject({
    type: z.string(),
    user: stringOrObject.optional(),
    channel: stringOrObject.optional(),
    channel_id: z.string().optional(),
    item: z.looseObject({}).optional(),
    subteam: z.looseObject({}).optional(),
  }),
  authorizations: z.array(z.looseObject({})).optional(),
});
const commandBody = z.looseObject({
  command: z.string().startsWith('/'),
  text: z.string().optional(),
  user_id: z.string(),
  channel_id: z.string(),
  response_url: z.string().optional(),
});
const interactive = { user, response_url: z.string().optional(), response_urls: responseUrls };
const optionsBody = z.looseObject({ ...interactive, action_id: z.string().optional() });
const actionsBody = z.looseObject({ ...interactive, actions: z.array(z.looseObject({ action_id: z.string().optional() })).min(1) });
const shortcutBody = z.looseObject({ ...interactive, callback_id: z.string() });
const viewBody = z.looseObject({ ...interactive, view: z.looseObject({ id: z.string(), callback_id: z.string() }) });

function schemaFor(body: Record<string, unknown>): z.ZodType | undefined {
  if (body.event !== undefined) return eventBody;
  if (body.command !== undefined) return commandBody;
  if (body.name !== undefined || body.type === 'block_suggestion') return optionsBody;
  if (body.actions !== undefined || body.type === 'dialog_submission') return actionsBody;
  if (body.type === 'shortcut' || body.type === 'message_action') return shortcutBody;
  if (body.type === 'view_submission' || body.type === 'view_closed') return viewBody;
  return undefined;
}

const isForm = (contentType: string | undefined) => contentType?.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';

/** Slack's SSL check is the one unsigned request it sends: a form with `ssl_check=1`. */
export function isSslCheck(contentType: string | undefined, raw: string): boolean {
  // Every slash command is a form too: only one that mentions ssl_check is parsed here.
  return isForm(contentType) && raw.includes('ssl_check=') && parseForm(raw).ssl_check === '1';
}

/** Reads a verified request body: a form (a slash command, or `payload=<json>` for interactivity) or JSON (events). */
export function readSlackBody(contentType: string | undefined, raw: string): SlackBody {
  let parsed: unknown;
  try {
    if (isForm(contentType)) {
      const form = parseForm(raw);
      parsed = typeof form.payload === 'string' ? JSON.parse(form.payload) : { ...form };
    } else {
      parsed = JSON.parse(raw);
    }
  } catch {
    return { kind: 'malformed', reason: 'the body is not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'malformed', reason: 'the body is not a JSON object' };
  const body = parsed as Record<string, unknown>;
  if (body.type === 'url_verification') {
    return typeof body.challenge === 'string' ? { kind: 'request', body } : { kind: 'malformed', reason: 'url_verification needs a challenge' };
  }
  const schema = schemaFor(body);
  if (!schema) return { kind: 'ignored', reason: `Tandem does not handle Slack requests of type ${JSON.stringify(body.type ?? null)}` };
  const checked = schema.safeParse(body);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return { kind: 'malformed', reason: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}` };
  }
  return { kind: 'request', body };
}
