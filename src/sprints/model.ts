import { approversOf, type Catalog, requireService } from '../catalog';
import { slugify } from '../incidents/model';
import { parseCalendarDate } from '../fields';
import { isTimeZone } from '../time';

/** Pure rules of sprints: who may do what, statuses, keys, dates, progress and the `/sprint` grammar. */

/** Owners and approvers may point digests at customers (the contract says so); on-call may not. */
export function mayManageSubscriptions(catalog: Catalog, serviceName: string, user: string): boolean {
  const service = requireService(catalog, serviceName);
  return service.owners.includes(user) || approversOf(catalog, service).has(user);
}

/** The one wording of each refusal, whether a listener's pre-check or a use case says it. */
export const refusals = {
  notOnServiceTeam: (service: string) => `Only the owners, on-call and approvers of ${service} run its sprints.`,
  notOnAnyServiceTeam: 'Only the owners, on-call and approvers of a service link its customer requests to features.',
  notSubscriptionManager: (service: string) => `Only the owners and approvers of ${service} manage its digest subscriptions.`,
} as const;

export const featureStatuses = ['planned', 'in-dev', 'in-uat', 'done', 'dropped'] as const;
export type FeatureStatus = (typeof featureStatuses)[number];

export const maxSprintNameLength = 100;
export const maxFeatureTitleLength = 200;
export const maxFeatureKeyLength = 64;
/** Feature keys from trackers: `PAY-123`, `web.checkout_v2`. */
export const featureKeyPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const featureKey = (number: number) => `F-${number}`;
export const requestKey = (number: number) => `R-${number}`;

/** The key of a sprint started in Slack: the service and the name, e.g. `payments-sprint-42`. */
export const sprintKeyFor = (service: string, name: string) => `${service}-${slugify(name) || 'sprint'}`;

/** Accepts `in-dev`, `IN_DEV`, `In dev`. */
export function parseFeatureStatus(value: string): FeatureStatus | undefined {
  const status = value.trim().toLowerCase().replace(/[\s_]+/g, '-');
  return (featureStatuses as readonly string[]).includes(status) ? (status as FeatureStatus) : undefined;
}

/** "R-4", "r-4" or "4" → 4. */
function parseRequestNumber(reference: string): number | undefined {
  const match = /^(?:r-)?(\d{1,9})$/i.exec(reference.trim());
  return match ? Number(match[1]) : undefined;
}

/** A real calendar date written YYYY-MM-DD, in the range Tandem stores, or undefined. */
export const parseIsoDate = (text: string): string | undefined => parseCalendarDate(text);

export interface FeatureSummary {
  key: string;
  title: string;
  status: FeatureStatus;
  customerVisible: boolean;
}

export interface Progress {
  done: number;
  /** Features still in the sprint: everything but the dropped ones. */
  committed: number;
  /** Whole percent of committed features done. */
  percent: number;
}

export function sprintProgress(features: readonly Pick<FeatureSummary, 'status'>[]): Progress {
  const committed = features.filter((feature) => feature.status !== 'dropped').length;
  const done = features.filter((feature) => feature.status === 'done').length;
  return { done, committed, percent: committed === 0 ? 0 : Math.floor((done * 100) / committed) };
}

/** What `/sprint <text>` asks for. Every variant but help and invalid may name a service. */
export type SprintCommand =
  | { kind: 'help' }
  | { kind: 'invalid'; message: string }
  | { kind: 'show'; service?: string }
  | { kind: 'start'; name: string; startsOn: string; endsOn: string; service?: string }
  | { kind: 'add'; title: string; customerVisible: boolean; service?: string }
  | { kind: 'status'; feature: string; status: FeatureStatus; service?: string }
  | { kind: 'post'; service?: string }
  | { kind: 'requests'; service?: string }
  | { kind: 'link'; request: number; feature: string; service?: string }
  | { kind: 'subscribe'; channel: string; cron?: string; timeZone?: string; service?: string }
  | { kind: 'unsubscribe'; channel: string; service?: string }
  | { kind: 'subscriptions'; service?: string };

const readOnlyKinds: ReadonlySet<SprintCommand['kind']> = new Set(['help', 'invalid', 'show', 'requests', 'subscriptions']);

/** `/sprint` texts that only read: they need no delivery claim (see ReadOnlyCommands). */
export const sprintCommandReadsOnly = (text: string) => readOnlyKinds.has(parseSprintCommand(text).kind);

const channelToken = /^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$/;

export function parseSprintCommand(input: string): SprintCommand {
  const { words, service } = takeServiceOption(input);
  const [first = 'show', ...rest] = words;
  const withService: WithService = (command) => (service ? { ...command, service } : command);
  switch (first.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'show':
    case 'post':
    case 'requests':
    case 'subscriptions':
      if (rest.length > 0) return invalid(`\`/sprint ${first.toLowerCase()}\` takes no text other than \`service=<name>\`.`);
      return withService({ kind: first.toLowerCase() as 'show' | 'post' | 'requests' | 'subscriptions' });
    case 'start':
      return parseStart(rest, withService);
    case 'add': {
      const internal = rest[0]?.toLowerCase() === 'internal';
      const title = (internal ? rest.slice(1) : rest).join(' ');
      if (!title) return invalid('`/sprint add` needs the feature’s title, for example `/sprint add Export invoices as PDF` (or `/sprint add internal Upgrade Postgres` for one customers never see).');
      if (title.length > maxFeatureTitleLength) return invalid(`That title is ${title.length} characters; keep it under ${maxFeatureTitleLength}.`);
      return withService({ kind: 'add', title, customerVisible: !internal });
    }
    case 'status': {
      const status = parseFeatureStatus(rest[1] ?? '');
      if (rest.length !== 2 || !status) {
        return invalid(`\`/sprint status\` takes a feature and one of ${featureStatuses.join(', ')}, for example \`/sprint status F-3 in-uat\`.`);
      }
      return withService({ kind: 'status', feature: rest[0]!, status });
    }
    case 'link': {
      const request = parseRequestNumber(rest[0] ?? '');
      if (rest.length !== 2 || request === undefined) {
        return invalid('`/sprint link` takes a request and a feature, for example `/sprint link R-4 F-2`.');
      }
      return withService({ kind: 'link', request, feature: rest[1]! });
    }
    case 'subscribe':
      return parseSubscribe(rest, withService);
    case 'unsubscribe': {
      const channel = channelToken.exec(rest[0] ?? '')?.[1];
      if (rest.length !== 1 || !channel) return invalid(channelHint('unsubscribe'));
      return withService({ kind: 'unsubscribe', channel });
    }
    default:
      return invalid(`\`/sprint ${first}\` is not something Tandem knows. ${usageLine}`);
  }
}

const usageLine = `Try \`/sprint show\`, \`start\`, \`add\`, \`status\`, \`post\`, \`requests\`, \`link\`, \`subscribe\`, \`unsubscribe\` or \`help\`.`;

const invalid = (message: string): SprintCommand => ({ kind: 'invalid', message });

/** Adds the `service=<name>` option to a parsed command when it was given. */
type WithService = <T extends SprintCommand>(command: T) => T;

function takeServiceOption(input: string): { words: string[]; service?: string } {
  let service: string | undefined;
  const words: string[] = [];
  for (const word of input.trim().split(/\s+/).filter(Boolean)) {
    const option = /^service=(.+)$/i.exec(word);
    if (option) service = option[1]!.toLowerCase();
    else words.push(word);
  }
  return service ? { words, service } : { words };
}

function parseStart(words: string[], withService: WithService): SprintCommand {
  const example = '`/sprint start Sprint 42 2026-11-23 2026-12-04`';
  if (words.length < 3) return invalid(`\`/sprint start\` takes a name, a start date and an end date, for example ${example}.`);
  const [startText, endText] = words.slice(-2) as [string, string];
  const name = words.slice(0, -2).join(' ');
  const startsOn = parseIsoDate(startText);
  const endsOn = parseIsoDate(endText);
  if (!startsOn && endsOn && !/^\d{4}-/.test(startText)) {
    return invalid(`\`/sprint start\` needs two dates after the name, a start and an end, for example ${example}.`);
  }
  for (const [text, parsed] of [[startText, startsOn], [endText, endsOn]] as const) {
    if (!parsed) return invalid(`\`${text}\` is not a date. Write dates as YYYY-MM-DD, for example ${example}.`);
  }
  if (endsOn! < startsOn!) return invalid(`The sprint would end (${endsOn}) before it starts (${startsOn}). Put the start date first, for example ${example}.`);
  if (name.length > maxSprintNameLength) return invalid(`That name is ${name.length} characters; keep it under ${maxSprintNameLength}.`);
  return withService({ kind: 'start', name, startsOn: startsOn!, endsOn: endsOn! });
}

function channelHint(verb: 'subscribe' | 'unsubscribe'): string {
  return verb === 'subscribe'
    ? '`/sprint subscribe` takes a channel picked from Slack’s suggestions, then optionally a schedule and a time zone, for example `/sprint subscribe #acme-customers` or `/sprint subscribe #acme-customers 0 9 * * 1 Europe/Berlin`.'
    : '`/sprint unsubscribe` takes one channel picked from Slack’s suggestions, for example `/sprint unsubscribe #acme-customers`.';
}

// Built from a string, not a regex literal: the bundle escapes strings to ASCII (scripts/build.mjs).
const quotes = '"\'`“”‘’';
const surroundingQuotes = new RegExp(`^[${quotes}]+|[${quotes}]+$`, 'g');

/** `#channel [<cron>] [<tz>]`: the time zone is the last word when it names one (or looks like one). */
function parseSubscribe(words: string[], withService: WithService): SprintCommand {
  const channel = channelToken.exec(words[0] ?? '')?.[1];
  if (!channel) return invalid(channelHint('subscribe'));
  const rest = words.slice(1).map((word) => word.replace(surroundingQuotes, '')).filter(Boolean);
  const last = rest.at(-1);
  const looksLikeZone = last !== undefined && /[A-Za-z]/.test(last) && (last.includes('/') || isTimeZone(last));
  const timeZone = looksLikeZone ? last : undefined;
  const cronWords = looksLikeZone ? rest.slice(0, -1) : rest;
  return withService({
    kind: 'subscribe',
    channel,
    ...(cronWords.length > 0 ? { cron: cronWords.join(' ') } : {}),
    ...(timeZone ? { timeZone } : {}),
  });
}
