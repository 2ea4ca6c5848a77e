import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { invalid, type TandemError } from './errors';
import { calendarDate, dateOrDateTime } from './fields';
import { scheduleProblem } from './jobs/periods';
import { isTimeZone } from './time';

/**
 * The service catalog (`tandem.yaml`): who owns each service, who approves its
 * changes, where it talks, and when changes are frozen. Unknown keys are errors so
 * that a typo never silently disables a rule.
 */

const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user ID such as U0123ABCD');
const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel ID such as C0123ABCD');
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower case letters, digits, - or _ (for example payments-api)');

const severity = z
  .number({ error: 'must be a severity from 1 (highest) to 4' })
  .int()
  .min(1, 'must be a severity from 1 (highest) to 4')
  .max(4, 'must be a severity from 1 (highest) to 4');

const fraction = z
  .number({ error: 'must be a fraction from 0 to 1, such as 0.9 for 90%' })
  .min(0, 'must be a fraction from 0 to 1, such as 0.9 for 90%')
  .max(1, 'must be a fraction from 0 to 1, such as 0.9 for 90%');
const wholeNumber = (min: number) => z.number().int(`must be a whole number`).min(min, `must be at least ${min}`);

/** How standard changes are pre-approved; every key has a default. */
const policySchema = z
  .strictObject({
    budget: z
      .strictObject({
        initial: wholeNumber(0).optional(),
        min: wholeNumber(0).optional(),
        max: wholeNumber(0).optional(),
        step: wholeNumber(0).optional(),
      })
      .optional(),
    success_threshold: fraction.optional(),
    lookback_sprints: wholeNumber(1).optional(),
    attribution_hours: wholeNumber(1).optional(),
  })
  .optional();

const defaultPolicy = {
  budget: { initial: 10, min: 2, max: 40, step: 2 },
  success_threshold: 0.9,
  lookback_sprints: 3,
  attribution_hours: 48,
};

export type ChangePolicy = typeof defaultPolicy;

/** A recurring schedule: cron fields (default Mondays 09:00) in a time zone (default TANDEM_TIMEZONE). */
const scheduleFields = {
  cron: z.string().default('0 9 * * 1'),
  timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC').optional(),
};

function checkSchedule(schedule: { cron: string; timezone?: string }, ctx: z.RefinementCtx) {
  const timeZone = schedule.timezone ?? 'UTC';
  // A bad time zone is reported on its own key.
  if (!isTimeZone(timeZone)) return;
  const problem = scheduleProblem({ cron: schedule.cron, timeZone });
  if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem.replaceAll('`', '"') });
}

const digestSchema = z.strictObject(scheduleFields).superRefine(checkSchedule);

/** The weekly continual-improvement report: where it is posted and when. */
const reportSchema = z.strictObject({ channel: channelId, ...scheduleFields }).superRefine(checkSchedule);

/** A GitHub repository as `owner/name`, as GitHub's webhooks spell it. */
const repository = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be a GitHub repository as owner/name, such as acme/payments-api');

/**
 * The GitHub repositories gated by Tandem and how their environments map to Tandem's.
 * A GitHub environment is the Tandem environment of the same name, lower-cased, unless
 * `environments` maps it; `standard_environments` (Tandem names) are decided by the policy.
 */
const githubSchema = z.strictObject({
  repositories: z.array(repository).default([]),
  environments: z.record(z.string().min(1), z.string().min(1)).default({}),
  standard_environments: z.array(z.string().min(1)).default([]),
});

const serviceSchema = z.strictObject({
  description: z.string().optional(),
  owners: z.array(userId).default([]),
  oncall: z.array(userId).default([]),
  approvers: z
    .strictObject({
      groups: z.array(name).default([]),
      users: z.array(userId).default([]),
      quorum: z.number().int().min(1, 'must be at least 1').default(1),
      remind_after_hours: z.number().positive('must be more than 0').default(4),
      expire_after_days: z.number().positive('must be more than 0').default(7),
    })
    .default({ groups: [], users: [], quorum: 1, remind_after_hours: 4, expire_after_days: 7 }),
  channels: z
    .strictObject({
      incidents: channelId.optional(),
      approvals: channelId.optional(),
      customers: z.array(channelId).default([]),
    })
    .default({ customers: [] }),
  default_severity: severity.default(3),
  policy: policySchema,
  /** Defaults for `/sprint subscribe` in this service's customer channels. */
  digest: digestSchema.default({ cron: '0 9 * * 1' }),
  request_followup_days: z
    .number({ error: 'must be a number of days from 1 to 365' })
    .int('must be a whole number of days')
    .min(1, 'must be a number of days from 1 to 365')
    .max(365, 'must be a number of days from 1 to 365')
    .default(7),
  github: githubSchema.optional(),
});

const sevenDays = 7;
const defaultUpdateEveryMinutes: Partial<Record<1 | 2 | 3 | 4, number>> = { 1: 30, 2: 60, 3: 240 };

/** How incident channels behave; every key has a default. */
const incidentsSchema = z
  .strictObject({
    /** The reaction that puts a message on the timeline (an emoji name, without colons). */
    timeline_reaction: z
      .string()
      .regex(/^[a-z0-9_+'-]+$/, 'must be an emoji name without colons, such as pushpin')
      .default('pushpin'),
    /** Roles besides the commander that `/incident role` can assign. */
    roles: z
      .array(name.refine((role) => role !== 'commander', 'commander is always a role; list only the others'))
      .default(['comms', 'scribe']),
    /** Minutes without an update before the commander is reminded, per severity; a severity left out is never reminded. */
    update_every_minutes: z
      .partialRecord(z.enum(['1', '2', '3', '4'], 'must be a severity from 1 to 4'), wholeNumber(1))
      .optional()
      .transform((minutes): Partial<Record<1 | 2 | 3 | 4, number>> =>
        minutes === undefined ? defaultUpdateEveryMinutes : Object.fromEntries(Object.entries(minutes).map(([sev, value]) => [Number(sev), value])),
      ),
    /** Days after resolution before the channel is archived; 0 never archives. */
    archive_after_days: wholeNumber(0).default(sevenDays),
    /** Days after archiving before the channel's stored messages are dropped. */
    message_retention_days: wholeNumber(0).default(30),
  })
  .prefault({});

/** The change advisory board's weekly agenda: where and when it is posted. */
const cabSchema = z.strictObject({ channel: channelId, ...scheduleFields }).superRefine(checkSchedule);

const freezeSchema = z
  .strictObject({
    from: dateOrDateTime,
    to: dateOrDateTime,
    services: z.array(z.union([name, z.literal('*')])).default(['*']),
    reason: z.string().optional(),
  })
  .refine((window) => Date.parse(window.from) <= Date.parse(window.to), {
    message: 'from must not be after to',
    path: ['to'],
  });

const catalogSchema = z
  .strictObject({
    services: z.record(name, serviceSchema).default({}),
    groups: z.record(name, z.array(userId)).default({}),
    freeze: z.array(freezeSchema).default([]),
    /** Defaults for every service's `policy`. */
    policy: policySchema,
    report: reportSchema.optional(),
    incidents: incidentsSchema,
    cab: cabSchema.optional(),
    /** The sprint cadence change budgets follow. */
    sprints: z
      .strictObject({
        length_days: wholeNumber(1).default(14),
        starts_on: calendarDate.default('2026-01-05'),
      })
      .default({ length_days: 14, starts_on: '2026-01-05' }),
  })
  .superRefine((catalog, ctx) => {
    for (const [serviceName, service] of Object.entries(catalog.services)) {
      service.approvers.groups.forEach((group, index) => {
        if (!(group in catalog.groups)) {
          ctx.addIssue({
            code: 'custom',
            path: ['services', serviceName, 'approvers', 'groups', index],
            message: `names group "${group}", which is not defined under groups`,
          });
        }
      });
    }
    for (const [serviceName, service] of Object.entries(catalog.services)) {
      const budget = { ...defaultPolicy.budget, ...catalog.policy?.budget, ...service.policy?.budget };
      if (budget.min > budget.max) {
        ctx.addIssue({ code: 'custom', path: ['services', serviceName, 'policy', 'budget'], message: 'min must not be above max' });
      } else if (budget.initial < budget.min || budget.initial > budget.max) {
        ctx.addIssue({ code: 'custom', path: ['services', serviceName, 'policy', 'budget', 'initial'], message: `must be between min (${budget.min}) and max (${budget.max})` });
      }
    }
    const repositoryOwners = new Map<string, string>();
    for (const [serviceName, service] of Object.entries(catalog.services)) {
      service.github?.repositories.forEach((repo, index) => {
        const key = repo.toLowerCase();
        const other = repositoryOwners.get(key);
        if (other) {
          ctx.addIssue({
            code: 'custom',
            path: ['services', serviceName, 'github', 'repositories', index],
            message: `${repo} is already listed under service "${other}"; a repository belongs to one service`,
          });
        } else repositoryOwners.set(key, serviceName);
      });
    }
    catalog.freeze.forEach((window, index) => {
      window.services.forEach((service, serviceIndex) => {
        if (service !== '*' && !(service in catalog.services)) {
          ctx.addIssue({
            code: 'custom',
            path: ['freeze', index, 'services', serviceIndex],
            message: `names service "${service}", which is not defined under services`,
          });
        }
      });
    });
  });

export type Catalog = z.infer<typeof catalogSchema>;
export type ServiceConfig = Catalog['services'][string];
export type FreezeWindow = Catalog['freeze'][number];
export type IncidentSettings = Catalog['incidents'];
export type CabSettings = NonNullable<Catalog['cab']>;

export const emptyCatalog: Catalog = catalogSchema.parse({});

export class CatalogError extends Error {
  override name = 'CatalogError';
}

export function loadCatalog(file: string | undefined): Catalog {
  if (file === undefined) return emptyCatalog;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CatalogError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseCatalog(text, file);
}

/** Parses catalog text; every error names the file, the path inside it and the reason. */
export function parseCatalog(text: string, file = 'tandem.yaml'): Catalog {
  const document = parseDocument(text, { prettyErrors: true });
  const yamlError = document.errors[0];
  if (yamlError) {
    const position = yamlError.linePos?.[0];
    const where = position ? `:${position.line}:${position.col}` : '';
    const reason = (yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new CatalogError(`${file}${where}: not valid YAML (${reason})`);
  }
  const result = catalogSchema.safeParse(document.toJS() ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `${file}: ${where}: ${issue.message}${shownValue(issue.input, issue.message)}`;
  });
  throw new CatalogError(problems.join('; '));
}

/** The offending value, so the reader can find it in the file; unless the message already quotes it. */
function shownValue(input: unknown, message: string): string {
  if (typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'boolean') return '';
  const shown = JSON.stringify(input);
  return message.includes(String(input)) ? '' : ` (it is ${shown})`;
}

export function findService(catalog: Catalog, serviceName: string): ServiceConfig | undefined {
  return Object.hasOwn(catalog.services, serviceName) ? catalog.services[serviceName] : undefined;
}

export function serviceNames(catalog: Catalog): string[] {
  return Object.keys(catalog.services).sort();
}

/**
 * The one refusal for a service the catalog does not list: it names the services
 * there are. The API routes that validated their query before there was an
 * `unknown_service` code keep answering `validation_failed`.
 */
export function unknownService(catalog: Catalog, name: string, code: 'unknown_service' | 'validation_failed' = 'unknown_service'): TandemError {
  const known = serviceNames(catalog);
  return invalid(
    code,
    known.length > 0
      ? `There is no service "${name}" in the catalog. Known services: ${known.join(', ')}.`
      : `There is no service "${name}": the catalog lists no services yet (see tandem.yaml).`,
    [{ field: 'service', message: `unknown service "${name}"` }],
  );
}

/** The service named `name`, or an `unknown_service` error that lists the services there are. */
export function requireService(catalog: Catalog, name: string): ServiceConfig {
  const service = findService(catalog, name);
  if (service) return service;
  throw unknownService(catalog, name);
}

/** Everyone who may approve changes to a service: its approver groups' members and named users. */
export function approversOf(catalog: Catalog, service: ServiceConfig): Set<string> {
  const members = service.approvers.groups.flatMap((group) => catalog.groups[group] ?? []);
  return new Set([...members, ...service.approvers.users]);
}

/**
 * Owners, on-call and approvers: the people who run a service. Sprints let only them
 * change a sprint or see its internal work, and the Home shows them their services.
 */
export function isServiceTeam(catalog: Catalog, serviceName: string, user: string): boolean {
  const service = requireService(catalog, serviceName);
  return service.owners.includes(user) || service.oncall.includes(user) || approversOf(catalog, service).has(user);
}

/** Whether `user` runs any service at all (before Tandem knows which one a request belongs to). */
export const onAnyServiceTeam = (catalog: Catalog, user: string): boolean => serviceNames(catalog).some((service) => isServiceTeam(catalog, service, user));

/** A service's standard-change policy (its own keys over the catalog's over Tandem's), or the catalog-wide one. */
export function policyOf(catalog: Catalog, service?: ServiceConfig): ChangePolicy {
  const own = service?.policy;
  return {
    budget: { ...defaultPolicy.budget, ...catalog.policy?.budget, ...own?.budget },
    success_threshold: own?.success_threshold ?? catalog.policy?.success_threshold ?? defaultPolicy.success_threshold,
    lookback_sprints: own?.lookback_sprints ?? catalog.policy?.lookback_sprints ?? defaultPolicy.lookback_sprints,
    attribution_hours: own?.attribution_hours ?? catalog.policy?.attribution_hours ?? defaultPolicy.attribution_hours,
  };
}

export type ChannelRole = 'incidents' | 'approvals' | 'customers';

/** The services whose catalog lists `channelId` in one of `roles`, in catalog order. */
export function servicesOfChannel(catalog: Catalog, channelId: string, roles: readonly ChannelRole[]): string[] {
  return Object.entries(catalog.services)
    .filter(([, service]) =>
      roles.some((role) => (role === 'customers' ? service.channels.customers.includes(channelId) : service.channels[role] === channelId)),
    )
    .map(([serviceName]) => serviceName);
}

/** The service whose incidents or approvals channel this is, if any. */
export function serviceOfChannel(catalog: Catalog, channelId: string): string | undefined {
  return servicesOfChannel(catalog, channelId, ['incidents', 'approvals'])[0];
}

/** The people pulled into an incident swarm for a service: on-call first, then owners. */
export function respondersOf(service: ServiceConfig): string[] {
  return [...new Set([...service.oncall, ...service.owners])];
}

/** The service whose `github.repositories` lists a repository (GitHub's names are case-insensitive). */
export function serviceOfRepository(catalog: Catalog, repository: string): string | undefined {
  const wanted = repository.toLowerCase();
  return Object.entries(catalog.services).find(([, service]) => service.github?.repositories.some((repo) => repo.toLowerCase() === wanted))?.[0];
}

/** Every repository gated by Tandem, with its service. */
export function gatedRepositories(catalog: Catalog): Array<{ service: string; repository: string }> {
  return Object.entries(catalog.services).flatMap(([service, config]) => (config.github?.repositories ?? []).map((repository) => ({ service, repository })));
}

/** The Tandem environment a GitHub environment gates: the one `github.environments` maps it to, else its name lower-cased. */
export function tandemEnvironmentOf(service: ServiceConfig, githubEnvironment: string): string {
  const mapped = Object.entries(service.github?.environments ?? {}).find(([name]) => name.toLowerCase() === githubEnvironment.toLowerCase());
  return mapped ? mapped[1] : githubEnvironment.toLowerCase();
}
