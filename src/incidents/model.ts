import { createHash } from 'node:crypto';
import { parseKeyNumber } from '../references';
import { compactDate } from '../time';

/** Pure rules of incidents: keys, severities, statuses, channel names and the command grammar. */

export const severities = [1, 2, 3, 4] as const;
export type Severity = (typeof severities)[number];

export const incidentStatuses = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

export const defaultSeverity: Severity = 3;
export const maxTitleLength = 150;
/** Room for any alert's detail and the whole text of a shortened title; bounded so one alert cannot bloat every view of it. */
export const maxDescriptionLength = 40_000;
export const maxDedupKeyLength = 255;

export const incidentKey = (number: number) => `INC-${number}`;
export const severityLabel = (severity: number) => `SEV${severity}`;

/** Accepts 2, "2", "sev2", "SEV-2". */
export function parseSeverity(value: unknown): Severity | undefined {
  const text = String(value).trim();
  const match = /^(?:sev-?)?([1-4])$/i.exec(text);
  return match ? (Number(match[1]) as Severity) : undefined;
}

/** The severity words monitoring tools send (Alertmanager's `severity` label, Datadog, Sentry). */
const namedSeverities: Record<string, Severity> = { critical: 1, high: 2, error: 2, warning: 3, info: 4 };

/** Like parseSeverity, and also reads "critical", "high", "error", "warning" and "info". */
export function readSeverity(value: unknown): Severity | undefined {
  return parseSeverity(value) ?? namedSeverities[String(value).trim().toLowerCase()];
}

/**
 * What a declaration records: a title over the limit is cut with an ellipsis and its
 * whole text opens the description, so an incident is never refused for its length.
 * `notes` say what was changed, for the timeline and the declarer.
 */
export function fitDeclaration(input: { title: string; description?: string | null }): {
  title: string;
  description: string | null;
  notes: string[];
} {
  const notes: string[] = [];
  const fullTitle = input.title.trim();
  let title = fullTitle;
  let description = input.description?.trim() || null;
  if (fullTitle.length > maxTitleLength) {
    title = `${cut(fullTitle, maxTitleLength - 1).trimEnd()}…`;
    description = description ? `${fullTitle}\n\n${description}` : fullTitle;
    notes.push(`The title was ${fullTitle.length} characters, so it is shortened to ${maxTitleLength}; the whole text opens the description.`);
  }
  if (description && description.length > maxDescriptionLength) {
    notes.push(`The description was ${description.length} characters, so it is cut to ${maxDescriptionLength}.`);
    description = `${cut(description, maxDescriptionLength - 1)}…`;
  }
  return { title, description, notes };
}

/** The first `length` UTF-16 units, never splitting an emoji's surrogate pair. */
function cut(text: string, length: number): string {
  const end = /[\uD800-\uDBFF]/.test(text.charAt(length - 1)) ? length - 1 : length;
  return text.slice(0, end);
}

/**
 * An over-long dedup key keeps its start and gains a hash of the whole, so a repeat of
 * the same alert still matches and two long keys that share a start stay apart.
 */
export function fitDedupKey(key: string): { key: string; shortened: boolean } {
  if (key.length <= maxDedupKeyLength) return { key, shortened: false };
  const digest = createHash('sha256').update(key).digest('hex');
  return { key: `${cut(key, maxDedupKeyLength - digest.length - 1)}#${digest}`, shortened: true };
}

export function parseStatus(value: string): IncidentStatus | undefined {
  const status = value.trim().toLowerCase();
  return (incidentStatuses as readonly string[]).includes(status) ? (status as IncidentStatus) : undefined;
}

/** A resolved incident takes no more changes; a problem that comes back is a new incident. */
export const isResolved = (incident: { status: IncidentStatus }) => incident.status === 'resolved';

const transliterations: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th' };
// Built from a string, not a regex literal: the bundle escapes strings to ASCII (scripts/build.mjs).
const transliterated = new RegExp(`[${Object.keys(transliterations).join('')}]`, 'g');

/** Lower-case ASCII words joined by hyphens: accents folded, emoji and punctuation dropped. */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(transliterated, (letter) => transliterations[letter] ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const maxChannelNameLength = 80;

/**
 * `inc-<YYYYMMDD>-<number>-<slug>`, at most 80 characters of `a-z 0-9 - _`.
 * `attempt` > 1 adds a suffix after a `name_taken`; the slug is shortened to keep it.
 */
export function incidentChannelName(
  incident: { number: number; title: string; declaredAt: Date },
  timeZone: string,
  attempt = 1,
): string {
  const base = `inc-${compactDate(incident.declaredAt, timeZone)}-${incident.number}`;
  const suffix = attempt > 1 ? `-${attempt}` : '';
  const room = maxChannelNameLength - base.length - suffix.length - 1;
  const slug = slugify(incident.title).slice(0, Math.max(0, room)).replace(/-+$/, '');
  return `${base}${slug ? `-${slug}` : ''}${suffix}`;
}

export function timeToRestoreSeconds(incident: { declaredAt: Date; resolvedAt: Date | null }): number | null {
  if (!incident.resolvedAt) return null;
  return Math.max(0, Math.round((incident.resolvedAt.getTime() - incident.declaredAt.getTime()) / 1000));
}

/** What `/incident <text>` asks for. */
export type IncidentCommand =
  | { kind: 'help' }
  | { kind: 'open_modal' }
  | { kind: 'declare'; title: string; severity?: Severity; service?: string; private: boolean; invite: string[] }
  | { kind: 'severity'; severity: Severity }
  | { kind: 'status'; status: Exclude<IncidentStatus, 'resolved'> }
  | { kind: 'commander'; user: string | 'me' }
  | { kind: 'role'; role: string; user: string | 'me' }
  | { kind: 'update'; text: string }
  | { kind: 'resolve'; summary?: string }
  | { kind: 'link'; change: number }
  | { kind: 'followup'; title: string; owner?: string }
  | { kind: 'followups' }
  | { kind: 'timeline'; page: number }
  | { kind: 'catchup' }
  | { kind: 'invalid'; message: string };

const readOnlyKinds: ReadonlySet<IncidentCommand['kind']> = new Set(['help', 'invalid', 'followups', 'timeline', 'catchup']);

/** `/incident` texts that only read: they need no delivery claim (see ReadOnlyCommands). */
export const incidentCommandReadsOnly = (text: string) => readOnlyKinds.has(parseIncidentCommand(text).kind);

const mention = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;

export function parseIncidentCommand(input: string): IncidentCommand {
  const text = input.trim();
  if (text === '') return { kind: 'open_modal' };
  const [word = '', ...rest] = text.split(/\s+/);
  const argument = text.slice(word.length).trim();
  switch (word.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'declare':
      return argument ? parseDeclaration(argument) : { kind: 'open_modal' };
    case 'sev':
    case 'severity': {
      const severity = parseSeverity(rest[0] ?? '');
      if (rest.length !== 1 || severity === undefined) {
        return invalidSubcommand(`\`/incident sev\` takes one severity from 1 (highest) to 4, for example \`/incident sev 2\`.`, text);
      }
      return { kind: 'severity', severity };
    }
    case 'status': {
      const status = parseStatus(rest[0] ?? '');
      if (rest.length !== 1 || status === undefined) {
        return invalidSubcommand(`\`/incident status\` takes one of ${incidentStatuses.join(', ')}, for example \`/incident status identified\`.`, text);
      }
      return status === 'resolved' ? { kind: 'resolve' } : { kind: 'status', status };
    }
    case 'commander': {
      if (rest.length === 1 && rest[0]?.toLowerCase() === 'me') return { kind: 'commander', user: 'me' };
      const users = [...argument.matchAll(mention)].map((match) => match[1] as string);
      if (rest.length !== 1 || users.length !== 1) {
        return invalidSubcommand('`/incident commander` takes one person: mention them (`/incident commander @alex`) or say `me`.', text);
      }
      return { kind: 'commander', user: users[0] as string };
    }
    case 'role': {
      const role = (rest[0] ?? '').toLowerCase();
      const target = rest.slice(1).join(' ');
      const users = [...target.matchAll(mention)].map((match) => match[1] as string);
      if (role && rest.length === 2 && rest[1]?.toLowerCase() === 'me') return { kind: 'role', role, user: 'me' };
      if (!role || rest.length !== 2 || users.length !== 1) {
        return invalidSubcommand('`/incident role` takes a role and one person, for example `/incident role comms @alex` (or `me`).', text);
      }
      return { kind: 'role', role, user: users[0] as string };
    }
    case 'update':
      return argument
        ? { kind: 'update', text: argument }
        : { kind: 'invalid', message: '`/incident update` needs the update text, for example `/incident update Rolled back to v41, error rate falling`.' };
    case 'resolve':
      return argument ? { kind: 'resolve', summary: argument } : { kind: 'resolve' };
    case 'link':
    case 'caused-by': {
      const change = rest.length === 1 ? parseKeyNumber(rest[0]!, 'CHG') : undefined;
      return change !== undefined
        ? { kind: 'link', change }
        : invalidSubcommand('`/incident link` takes the change that caused the incident, for example `/incident link CHG-42`.', text);
    }
    case 'followup':
    case 'follow-up':
      return parseFollowUp(argument);
    case 'followups':
    case 'follow-ups':
      return { kind: 'followups' };
    case 'timeline': {
      if (rest.length === 0) return { kind: 'timeline', page: 1 };
      const page = rest.length === 1 && /^[1-9][0-9]{0,5}$/.test(rest[0]!) ? Number(rest[0]) : undefined;
      return page !== undefined
        ? { kind: 'timeline', page }
        : invalidSubcommand('`/incident timeline` takes a page number, for example `/incident timeline 2` for the entries before the latest 20.', text);
    }
    case 'catchup':
    case 'catch-up':
      return rest.length === 0 ? { kind: 'catchup' } : invalidSubcommand('`/incident catchup` takes nothing after it.', text);
    default:
      return parseDeclaration(text);
  }
}

/** `<title> [@owner]`: one mention names the owner; a word like `@someone` that Slack did not turn into a mention is refused. */
function parseFollowUp(argument: string): IncidentCommand {
  const usage = '`/incident followup` takes a title and, optionally, its owner: `/incident followup Add retries to the card client @alex`.';
  const owners = [...argument.matchAll(mention)].map((match) => match[1] as string);
  const title = argument.replace(mention, ' ').replace(/\s+/g, ' ').trim();
  if (!title) return { kind: 'invalid', message: usage };
  if (owners.length > 1) return { kind: 'invalid', message: `A follow-up has one owner; you named ${owners.length}. ${usage}` };
  const loose = /(?:^|\s)(@[\w.-]+|<!\w+(?:\|[^>]*)?>)/.exec(argument);
  if (loose) return { kind: 'invalid', message: `${loose[1]} is not a person Tandem can find: mention the owner so Slack suggests them. ${usage}` };
  return owners[0] ? { kind: 'followup', title, owner: owners[0] } : { kind: 'followup', title };
}

function invalidSubcommand(message: string, text: string): IncidentCommand {
  return { kind: 'invalid', message: `${message}\nTo declare an incident with that title instead, run \`/incident declare ${text}\`.` };
}

/** `<title> [service=<name>] [sev=<1-4>] [--private] [@people…]`; options may stand anywhere. */
function parseDeclaration(text: string): IncidentCommand {
  const invite = [...text.matchAll(mention)].map((match) => match[1] as string);
  let severity: Severity | undefined;
  let service: string | undefined;
  let isPrivate = false;
  const words: string[] = [];
  for (const word of text.replace(mention, ' ').split(/\s+/).filter(Boolean)) {
    const option = /^(service|sev|severity)=(.*)$/i.exec(word);
    if (option) {
      const [, key = '', value = ''] = option;
      if (key.toLowerCase() === 'service') {
        service = value.toLowerCase();
      } else {
        severity = parseSeverity(value);
        if (severity === undefined) {
          return { kind: 'invalid', message: `\`${word}\` is not a severity: use sev=1 (highest) to sev=4.` };
        }
      }
    } else if (word.toLowerCase() === '--private') {
      isPrivate = true;
    } else {
      words.push(word);
    }
  }
  const title = words.join(' ');
  if (!title) {
    return { kind: 'invalid', message: 'An incident needs a title, for example `/incident Checkout returns 500s service=payments sev=2`.' };
  }
  return { kind: 'declare', title, severity, service, private: isPrivate, invite: [...new Set(invite)] };
}

/** One change to an incident, as recorded in its timeline and announced. */
export type IncidentChange =
  | { kind: 'declared' }
  | { kind: 'severity'; from: number; to: number }
  | { kind: 'status'; from: IncidentStatus; to: IncidentStatus; note?: string }
  | { kind: 'commander'; from: string | null; to: string }
  | { kind: 'role'; role: string; from: string | null; to: string }
  | { kind: 'update'; text: string }
  | { kind: 'resolved'; summary?: string; timeToRestoreSeconds: number }
  | { kind: 'follow_up'; problemNumber: number; title: string; owner?: string }
  | { kind: 'follow_up_state'; problemNumber: number; title: string; to: FollowUpState; feature?: string }
  | { kind: 'caused_by'; changeNumber: number; changeTitle: string };

export const problemKey = (number: number) => `PRB-${number}`;

export const followUpStates = ['open', 'done', 'wont-do'] as const;
export type FollowUpState = (typeof followUpStates)[number];
export const followUpStateLabels: Record<FollowUpState, string> = { open: 'open', done: 'done', 'wont-do': "won't do" };

/** The timeline's plain-text line for a change. */
export function describeChange(change: IncidentChange): string {
  switch (change.kind) {
    case 'declared':
      return 'Declared';
    case 'severity':
      return `Severity ${severityLabel(change.from)} → ${severityLabel(change.to)}`;
    case 'status':
      return `Status ${change.from} → ${change.to}${change.note ? `: ${change.note}` : ''}`;
    case 'commander':
      return `Commander ${change.from ?? 'unassigned'} → ${change.to}`;
    case 'role':
      return `Role ${change.role} ${change.from ?? 'unassigned'} → ${change.to}`;
    case 'update':
      return change.text;
    case 'resolved':
      return `Resolved after ${change.timeToRestoreSeconds}s${change.summary ? `: ${change.summary}` : ''}`;
    case 'follow_up':
      return `Follow-up ${problemKey(change.problemNumber)}: ${change.title}${change.owner ? ` (owner ${change.owner})` : ''}`;
    case 'follow_up_state':
      return `Follow-up ${problemKey(change.problemNumber)} is ${followUpStateLabels[change.to]}${change.feature ? ` (sprint feature ${change.feature} is done)` : ''}: ${change.title}`;
    case 'caused_by':
      return `Caused by CHG-${change.changeNumber} (${change.changeTitle}), which now counts as failed`;
  }
}
