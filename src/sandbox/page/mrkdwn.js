// Slack's mrkdwn as DOM nodes. Message text only ever becomes text nodes and a few
// known elements built here: nothing from a message is parsed as HTML.

/**
 * @typedef {object} MentionContext
 * @property {(id: string) => string | undefined} userName  a person's name, for <@U…>
 * @property {(id: string) => string | undefined} channelName  a channel's name, for <#C…>
 * @property {(id: string) => void} openChannel  follows a channel mention
 */

/** Marks where a protected token (a <…> token or `code`) sits while emphasis is parsed around it. */
const tokenMark = /\uE000(\d+)\uE001/g;

/**
 * @param {string} text  mrkdwn as Slack sends it (&, < and > escaped as entities)
 * @param {MentionContext} context
 * @returns {DocumentFragment}
 */
export function renderMrkdwn(text, context) {
  const fragment = document.createDocumentFragment();
  const parts = text.split('```');
  parts.forEach((part, index) => {
    const isCode = index % 2 === 1 && index < parts.length - 1;
    if (isCode) {
      const pre = document.createElement('pre');
      pre.className = 'mrkdwn-pre';
      pre.textContent = decodeEntities(part.replace(/^\n/, ''));
      fragment.append(pre);
    } else if (part !== '') {
      // An unmatched fence is just text.
      fragment.append(renderLines(index % 2 === 1 ? `\`\`\`${part}` : part, context));
    }
  });
  return fragment;
}

/** Consecutive lines starting with ">" form a quote; other lines keep their line breaks. */
function renderLines(text, context) {
  const fragment = document.createDocumentFragment();
  /** @type {Array<{ quote: boolean, lines: string[] }>} */
  const runs = [];
  for (const line of text.split('\n')) {
    const quoted = /^(&gt;|>) ?/.exec(line);
    const quote = quoted !== null;
    const content = quoted ? line.slice(quoted[0].length) : line;
    const last = runs.at(-1);
    if (last && last.quote === quote) last.lines.push(content);
    else runs.push({ quote, lines: [content] });
  }
  for (const run of runs) {
    const element = document.createElement(run.quote ? 'blockquote' : 'div');
    element.className = run.quote ? 'mrkdwn-quote' : 'mrkdwn-lines';
    element.append(renderInline(run.lines.join('\n'), context));
    fragment.append(element);
  }
  return fragment;
}

/** Tokens and code spans are kept whole first, so `*` inside a URL or code is never emphasis. */
function renderInline(text, context) {
  /** @type {Node[]} */
  const tokens = [];
  const marked = text.replace(/<([^<>\n]+)>|`([^`\n]+)`/g, (_match, angle, code) => {
    tokens.push(angle !== undefined ? renderToken(angle, context) : codeSpan(code));
    return `\uE000${tokens.length - 1}\uE001`;
  });
  const fragment = document.createDocumentFragment();
  fragment.append(...renderEmphasis(marked, tokens));
  return fragment;
}

const emphasisTags = { '*': 'strong', _: 'em', '~': 's' };
/** Slack's emphasis: a marker after a non-word character, then text that does not start or end with a space. */
const emphasis = /(^|[^A-Za-z0-9])([*_~])(?=\S)([^\n]*?\S)\2(?=$|[^A-Za-z0-9])/;

/**
 * @param {string} text
 * @param {Node[]} tokens
 * @returns {Node[]}
 */
function renderEmphasis(text, tokens) {
  const match = emphasis.exec(text);
  if (!match) return withTokens(text, tokens);
  const [whole, before, marker, inner] = match;
  const start = match.index + before.length;
  const element = document.createElement(emphasisTags[/** @type {'*' | '_' | '~'} */ (marker)]);
  element.append(...renderEmphasis(inner, tokens));
  return [...withTokens(text.slice(0, start), tokens), element, ...renderEmphasis(text.slice(match.index + whole.length), tokens)];
}

/**
 * @param {string} text
 * @param {Node[]} tokens
 * @returns {Node[]}
 */
function withTokens(text, tokens) {
  /** @type {Node[]} */
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(tokenMark)) {
    nodes.push(document.createTextNode(decodeEntities(text.slice(last, match.index))));
    const token = tokens[Number(match[1])];
    // Each token is marked once, so its node (and a channel link's click handler) is used as it is.
    nodes.push(token ?? document.createTextNode(match[0]));
    last = (match.index ?? 0) + match[0].length;
  }
  nodes.push(document.createTextNode(decodeEntities(text.slice(last))));
  return nodes.filter((node) => node.nodeType !== Node.TEXT_NODE || node.textContent !== '');
}

function codeSpan(code) {
  const element = document.createElement('code');
  element.textContent = decodeEntities(code);
  return element;
}

/**
 * <@U…>, <#C…|name>, <!here>, <!date^…|fallback>, <https://…|label>; anything else is shown as typed.
 * @param {string} token  what was between < and >
 * @param {MentionContext} context
 * @returns {Node}
 */
function renderToken(token, context) {
  const bar = token.indexOf('|');
  const target = bar < 0 ? token : token.slice(0, bar);
  const label = bar < 0 ? undefined : decodeEntities(token.slice(bar + 1));
  if (/^@[UW][A-Z0-9]+$/.test(target)) {
    const id = target.slice(1);
    return chip('mention', `@${context.userName(id) ?? label ?? id}`);
  }
  if (/^#[CGD][A-Z0-9]+$/.test(target)) {
    const id = target.slice(1);
    const link = chip('channel-mention', `#${context.channelName(id) ?? (label || id)}`);
    link.setAttribute('role', 'link');
    link.tabIndex = 0;
    link.addEventListener('click', () => context.openChannel(id));
    return link;
  }
  if (target.startsWith('!date^')) return renderDate(target, label);
  if (/^!(here|channel|everyone)$/.test(target)) return chip('mention', `@${target.slice(1)}`);
  if (target.startsWith('!subteam^')) return chip('mention', label ?? '@team');
  if (/^(https?:|mailto:)/i.test(target)) {
    const link = document.createElement('a');
    link.href = decodeEntities(target);
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.textContent = label ?? decodeEntities(target);
    return link;
  }
  return document.createTextNode(`<${decodeEntities(token)}>`);
}

function chip(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

/**
 * <!date^1392734382^{date_short_pretty} at {time}|fallback>, shown in the reader's time zone as Slack does.
 * @param {string} target
 * @param {string | undefined} fallback
 */
function renderDate(target, fallback) {
  const [, seconds, format = '{date_short_pretty} {time}'] = target.split('^');
  const at = new Date(Number(seconds) * 1000);
  const element = document.createElement('time');
  if (Number.isNaN(at.getTime())) {
    element.textContent = fallback ?? '';
    return element;
  }
  element.dateTime = at.toISOString();
  element.title = at.toString();
  element.textContent = format.replace(/\{(\w+)\}/g, (whole, name) => formatDatePart(name, at) ?? whole);
  return element;
}

/** @type {Record<string, Intl.DateTimeFormatOptions>} */
const dateStyles = {
  date: { year: 'numeric', month: 'long', day: 'numeric' },
  date_short: { year: 'numeric', month: 'short', day: 'numeric' },
  date_long: { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' },
  time: { hour: 'numeric', minute: '2-digit' },
  time_secs: { hour: 'numeric', minute: '2-digit', second: '2-digit' },
};

/**
 * @param {string} name
 * @param {Date} at
 * @returns {string | undefined}
 */
function formatDatePart(name, at) {
  // Swedish dates are ISO 8601 (2026-11-23), which is what {date_num} shows.
  if (name === 'date_num') return at.toLocaleDateString('sv-SE');
  if (name === 'ago') return agoText(at);
  const pretty = /^(date(?:_short|_long)?)_pretty$/.exec(name);
  if (pretty) return relativeDay(at) ?? formatDatePart(pretty[1], at);
  const style = dateStyles[name];
  return style ? at.toLocaleString(undefined, style) : undefined;
}

/** Local midnights are a day apart except across a DST change, hence the rounding. */
const dayMs = 86_400_000;

function relativeDay(at) {
  const day = (date) => new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  const difference = Math.round((day(at) - day(new Date())) / dayMs);
  return { [-1]: 'yesterday', 0: 'today', 1: 'tomorrow' }[difference];
}

function agoText(at) {
  const seconds = Math.round((Date.now() - at.getTime()) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (Math.abs(seconds) < 60) return format.format(-seconds, 'second');
  if (Math.abs(seconds) < 3600) return format.format(-Math.round(seconds / 60), 'minute');
  if (Math.abs(seconds) < 86_400) return format.format(-Math.round(seconds / 3600), 'hour');
  return format.format(-Math.round(seconds / 86_400), 'day');
}

/** Slack escapes exactly these three in message text. */
function decodeEntities(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
