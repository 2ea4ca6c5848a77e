import type { ChangeRow } from '../db/schema';
import { approversOf, type Catalog, type FreezeWindow, findService, type ServiceConfig } from '../catalog';
import { conflict, forbidden, type TandemError } from '../errors';
import { parseKeyNumber } from '../references';
import { addDays, dayMs, localDate, startOfLocalDay } from '../time';

/** Pure rules of changes: keys, states, the command grammar, freeze windows and sprints. */

export const changeTypes = ['standard', 'normal', 'emergency'] as const;
export type ChangeType = (typeof changeTypes)[number];
export const changeRisks = ['low', 'medium', 'high'] as const;
export type ChangeRisk = (typeof changeRisks)[number];
export type ChangeStatus = 'pending' | 'approved' | 'rejected' | 'cancelled' | 'deployed' | 'failed';

export const changeKey = (number: number) => `CHG-${number}`;
export const maxTitleLength = 150;
export const defaultEnvironment = 'production';
export const productionEnvironments = new Set(['production', 'prod']);

/** Without a stated risk, the type implies one. */
export const defaultRisk: Record<ChangeType, ChangeRisk> = { standard: 'low', normal: 'medium', emergency: 'high' };

export const isDecided = (status: ChangeStatus) => status !== 'pending';
export const isProduction = (environment: string) => productionEnvironments.has(environment.toLowerCase());

/** Why a change in this state may not be deployed, or undefined when it may. */
export function deployRefusal(status: ChangeStatus): string | undefined {
  switch (status) {
    case 'approved':
    case 'deployed':
      return undefined;
    case 'pending':
      return 'is still waiting for approval';
    case 'rejected':
      return 'was rejected';
    case 'cancelled':
      return 'was cancelled';
    case 'failed':
      return 'failed; request a new change for another attempt';
  }
}

// ---- who may do what -----------------------------------------------------------

/** What the permission rules need of a change. */
type Subject = { service: string; number: number; requestedBy: string };

/** Who may vote on a service's changes, as messages name them: groups by name, or people. */
export function describeApprovers(service: ServiceConfig): string {
  const groups = service.approvers.groups.map((group) => `*${group}*`);
  const users = service.approvers.users.map((user) => `<@${user}>`);
  return [...groups, ...users].join(', ') || 'nobody';
}

function isApprover(catalog: Catalog, serviceName: string, user: string): boolean {
  const service = findService(catalog, serviceName);
  return service !== undefined && approversOf(catalog, service).has(user);
}

/**
 * The services whose changes `user` may vote on: the approver half of `mayVote`.
 * (`pendingApprovalsFor` in the store adds the other half, not the requester, in SQL.)
 */
export function votableServices(catalog: Catalog, user: string): string[] {
  return Object.keys(catalog.services).filter((service) => isApprover(catalog, service, user));
}

/** The service's approvers vote on its changes, never on their own (separation of duties). */
export function mayVote(catalog: Catalog, change: Pick<Subject, 'service' | 'requestedBy'>, user: string): boolean {
  return isApprover(catalog, change.service, user) && user !== change.requestedBy;
}

/** Why `user` may not vote on `change`, or undefined when `mayVote`: one message for each half of the rule. */
export function voteRefusal(catalog: Catalog, change: Subject, user: string): TandemError | undefined {
  if (mayVote(catalog, change, user)) return undefined;
  if (!isApprover(catalog, change.service, user)) {
    const service = findService(catalog, change.service);
    return forbidden('not_an_approver', `Only ${service ? describeApprovers(service) : 'the service’s approvers'} may vote on ${change.service} changes.`);
  }
  return forbidden('own_change', `You requested ${changeKey(change.number)}, so someone else has to approve it (separation of duties).`);
}

/** Votes and the Reject form are for pending changes only. */
export const noLongerPending = (change: Subject & { status: string }) =>
  conflict('change_decided', `${changeKey(change.number)} is no longer waiting for approval (${change.status}), so nothing changed.`);

/** The requester, or one of the service's approvers, may withdraw a change. */
export function mayCancel(catalog: Catalog, change: Subject, user: string): boolean {
  return user === change.requestedBy || isApprover(catalog, change.service, user);
}

export const cancelRefusal = (change: Subject) =>
  forbidden('not_allowed', `Only the requester or ${change.service}'s approvers may cancel ${changeKey(change.number)}.`);

/** The service's approvers sign off an emergency change's retrospective review. */
export function mayReview(catalog: Catalog, change: Subject, user: string): boolean {
  return isApprover(catalog, change.service, user);
}

export const reviewRefusal = (change: Subject) => forbidden('not_an_approver', `Only ${change.service}'s approvers may sign off a review.`);

/** What `/change list` shows of a change. */
export type ListedChange = Pick<ChangeRow, 'number' | 'title' | 'service' | 'environment' | 'status' | 'requestedBy' | 'plannedStart' | 'plannedEnd' | 'conflicts'>;

// ---- the /change command ----------------------------------------------------------

export type ChangeCommand =
  | { kind: 'help' }
  | { kind: 'list'; service?: string }
  | { kind: 'calendar'; service?: string }
  | { kind: 'open_modal'; service?: string }
  | { kind: 'cancel'; number: number }
  | { kind: 'reviewed'; number: number }
  | { kind: 'request'; service: string; title: string; type: ChangeType; risk?: ChangeRisk; environment?: string; ref?: string; window?: string }
  | { kind: 'invalid'; message: string };

const usage = 'Request a change with `/change <service> <title> [type=standard|normal|emergency] [risk=low|medium|high] [env=<environment>] [ref=<ref>] [window=<start>/<end>]`, or `/change` for a form.';

export function parseChangeCommand(input: string): ChangeCommand {
  const text = input.trim();
  if (text === '') return { kind: 'open_modal' };
  const words = text.split(/\s+/);
  const first = words[0]!.toLowerCase();
  if (first === 'help') return { kind: 'help' };
  // `list` is a subcommand, never a service: `/change list foo` is not a change to "list".
  if (first === 'list') {
    if (words.length === 1) return { kind: 'list' };
    if (words.length === 2) return { kind: 'list', service: words[1]!.toLowerCase() };
    return { kind: 'invalid', message: '`/change list` takes at most a service: `/change list` for every open change, `/change list payments` for one service’s.' };
  }
  if (first === 'calendar') {
    if (words.length <= 2) return { kind: 'calendar', ...(words[1] ? { service: words[1].toLowerCase() } : {}) };
    return { kind: 'invalid', message: '`/change calendar` takes at most a service: `/change calendar` for every service, `/change calendar payments` for one.' };
  }
  if (first === 'cancel') {
    const number = words.length === 2 ? parseKeyNumber(words[1]!, 'CHG') : undefined;
    return number === undefined ? { kind: 'invalid', message: '`/change cancel` takes the change to cancel, for example `/change cancel CHG-42`.' } : { kind: 'cancel', number };
  }
  if (first === 'reviewed') {
    const number = words.length === 2 ? parseKeyNumber(words[1]!, 'CHG') : undefined;
    return number === undefined
      ? { kind: 'invalid', message: '`/change reviewed` takes the emergency change whose review you sign off, for example `/change reviewed CHG-42`.' }
      : { kind: 'reviewed', number };
  }
  const service = first;
  const options: Record<string, string> = {};
  const titleWords: string[] = [];
  for (const word of words.slice(1)) {
    const option = /^(type|risk|env|environment|ref|window)=(.+)$/i.exec(word);
    if (option) options[option[1]!.toLowerCase().replace('environment', 'env')] = option[2]!;
    else titleWords.push(word);
  }
  const title = titleWords.join(' ');
  if (!title) return { kind: 'open_modal', service };
  if (title.length > maxTitleLength) {
    return { kind: 'invalid', message: `That title is ${title.length} characters; keep it under ${maxTitleLength} and put the detail in the description.` };
  }
  const type = (options.type ?? 'normal').toLowerCase();
  if (!(changeTypes as readonly string[]).includes(type)) {
    return { kind: 'invalid', message: `\`type=${options.type}\` is not a change type: use standard, normal or emergency.\n${usage}` };
  }
  const risk = options.risk?.toLowerCase();
  if (risk !== undefined && !(changeRisks as readonly string[]).includes(risk)) {
    return { kind: 'invalid', message: `\`risk=${options.risk}\` is not a risk: use low, medium or high.\n${usage}` };
  }
  return {
    kind: 'request',
    service,
    title,
    type: type as ChangeType,
    ...(risk ? { risk: risk as ChangeRisk } : {}),
    ...(options.env ? { environment: options.env.toLowerCase() } : {}),
    ...(options.ref ? { ref: options.ref } : {}),
    ...(options.window ? { window: options.window } : {}),
  };
}

const readOnlyKinds: ReadonlySet<ChangeCommand['kind']> = new Set(['help', 'invalid', 'list', 'calendar']);

/** `/change` texts that only read: they need no delivery claim (see ReadOnlyCommands). */
export const changeCommandReadsOnly = (text: string) => readOnlyKinds.has(parseChangeCommand(text).kind);

/** The freeze window covering `at` for a service; dates are whole days in `timeZone`. */
export function activeFreeze(catalog: Catalog, service: string, at: Date, timeZone: string): FreezeWindow | undefined {
  return catalog.freeze.find((window) => {
    if (!window.services.includes('*') && !window.services.includes(service)) return false;
    const from = window.from.includes('T') ? new Date(window.from) : startOfLocalDay(window.from, timeZone);
    const until = window.to.includes('T') ? new Date(window.to) : startOfLocalDay(addDays(window.to, 1), timeZone);
    return at >= from && at < until;
  });
}

export interface Sprint {
  /** The sprint's first day, YYYY-MM-DD: its key. */
  key: string;
  startsAt: Date;
  endsAt: Date;
}

/** The fixed-length sprint containing `at`, counted from the catalog's `sprints.starts_on`. */
export function sprintAt(cadence: Catalog['sprints'], at: Date, timeZone: string): Sprint {
  const today = localDate(at, timeZone);
  const daysSinceAnchor = Math.round((Date.parse(today) - Date.parse(cadence.starts_on)) / dayMs);
  const index = Math.floor(daysSinceAnchor / cadence.length_days);
  return sprintFrom(cadence, addDays(cadence.starts_on, index * cadence.length_days), timeZone);
}

/** The `count` sprints before `sprint`, newest first. */
export function sprintsBefore(cadence: Catalog['sprints'], sprint: Sprint, count: number, timeZone: string): Sprint[] {
  return Array.from({ length: count }, (_, index) =>
    sprintFrom(cadence, addDays(sprint.key, -(index + 1) * cadence.length_days), timeZone),
  );
}

function sprintFrom(cadence: Catalog['sprints'], firstDay: string, timeZone: string): Sprint {
  return {
    key: firstDay,
    startsAt: startOfLocalDay(firstDay, timeZone),
    endsAt: startOfLocalDay(addDays(firstDay, cadence.length_days), timeZone),
  };
}

/** A fraction as the policy explains it: one decimal, e.g. 92.5%. */
export const percent = (fraction: number) => `${Math.round(fraction * 1000) / 10}%`;
