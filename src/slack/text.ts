import { withoutNul } from '../fields';

/**
 * Text crossing the Slack boundary. Slash-command text arrives with `&`, `<` and `>`
 * escaped and with mentions as `<@U…|name>` tokens; what we store is the person's
 * text unescaped, and what we post is escaped again so nobody can smuggle in a
 * `<!channel>` through a title or an API call. A NUL, which PostgreSQL cannot store
 * and nobody can type, is dropped.
 */

export function fromCommandText(text: string): string {
  return withoutNul(text).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const allowedTokens = /&lt;((?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|https?:\/\/[^\s|&]+)(?:\|[^&]*?)?)&gt;/g;

/** Escapes text for mrkdwn, keeping user and channel mentions and links but no broadcasts. */
export function toMrkdwn(text: string): string {
  if (!/[&<>]/.test(text)) return text;
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(allowedTokens, (_token, inner: string) => `<${inner.replace(/&amp;/g, '&')}>`);
}

/** Mentions and links rewritten as readable plain text, for titles and headers. */
export function toPlainText(text: string): string {
  if (!text.includes('<')) return text;
  return text
    .replace(/<@([UW][A-Z0-9]+)\|([^>]+)>/g, '@$2')
    .replace(/<@([UW][A-Z0-9]+)>/g, '@$1')
    .replace(/<#([CG][A-Z0-9]+)\|([^>]*)>/g, (_m, id: string, name: string) => `#${name || id}`)
    .replace(/<#([CG][A-Z0-9]+)>/g, '#$1')
    .replace(/<(https?:\/\/[^|>]+)\|([^>]+)>/g, '$2')
    .replace(/<(https?:\/\/[^>]+)>/g, '$1')
    .replace(/<!([a-z]+)(?:\|[^>]*)?>/g, '@$1');
}

/** Cuts text to Slack's field limits, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A date every reader sees in their own time zone; the fallback is for notifications. */
export function slackDate(at: Date, format = '{date_short_pretty} at {time}'): string {
  const unix = Math.floor(at.getTime() / 1000);
  return `<!date^${unix}^${format}|${at.toISOString().replace('T', ' ').slice(0, 16)} UTC>`;
}

const userIdPattern = /^[UW][A-Z0-9]+$/;
export const isSlackUserId = (value: string) => userIdPattern.test(value);

/** `<@U123>` for Slack users; API actors ("api:pagerduty") are shown by name. */
export function actorMention(actor: string): string {
  return isSlackUserId(actor) ? `<@${actor}>` : `\`${actor}\``;
}
