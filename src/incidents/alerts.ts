import { invalid } from '../errors';
import { withoutNul } from '../fields';
import { fitDedupKey, maxDedupKeyLength, readSeverity, type Severity } from './model';

/**
 * How `POST /incidents` reads what monitoring tools send. Alerts are read leniently:
 * anything that has a title is recorded, and what could not be used is said in
 * warnings, because a refused alert is an outage nobody hears about (and an
 * Idempotency-Key would replay the refusal to every retry).
 */
export type AlertRequest = DeclareAlert | ResolveAlert;

export interface DeclareAlert {
  kind: 'declare';
  title: string;
  description?: string;
  service?: string;
  severity?: Severity;
  dedupKey?: string;
  changeId?: string;
  deploymentId?: string;
  /** How the request was read (an ignored field); said in the answer only. */
  warnings: string[];
  /** What the incident records differently from the request; said in the answer and on the timeline. */
  notes: string[];
}

export interface ResolveAlert {
  kind: 'resolve';
  dedupKey: string;
  summary?: string;
  warnings: string[];
}

type Body = Record<string, unknown>;

export function readAlert(body: unknown): AlertRequest {
  if (!isObject(body)) {
    throw invalid('validation_failed', 'The request body must be a JSON object, such as {"title": "Checkout returns 500s"}.', [
      { field: '(body)', message: 'must be a JSON object' },
    ]);
  }
  return isAlertmanagerBody(body) ? readAlertmanager(body) : readGeneric(body);
}

const genericFields = new Set(['title', 'service', 'severity', 'description', 'dedup_key', 'change_id', 'deployment_id', 'status', 'summary']);
/** Enough to spot a typo; a body with thousands of keys does not get thousands of warnings. */
const maxFieldWarnings = 20;

function readGeneric(body: Body): AlertRequest {
  const warnings: string[] = [];
  const notes: string[] = [];
  const unknown = Object.keys(body).filter((field) => !genericFields.has(field));
  for (const field of unknown.slice(0, maxFieldWarnings)) warnings.push(`Ignored "${shorten(withoutNul(field))}": Tandem does not read that field.`);
  if (unknown.length > maxFieldWarnings) warnings.push(`Ignored ${unknown.length - maxFieldWarnings} more fields Tandem does not read.`);

  const text = (field: string): string | undefined => {
    const value = body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return withoutNul(value).trim() || undefined;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    warnings.push(`Ignored "${field}": it must be text.`);
    return undefined;
  };

  const dedupKey = readDedupKey(text('dedup_key'), warnings);
  if (text('status')?.toLowerCase() === 'resolved') {
    if (!dedupKey) {
      throw invalid('validation_failed', 'To resolve an alert, send the dedup_key it was declared with and "status": "resolved".', [
        { field: 'dedup_key', message: 'is required with status "resolved"' },
      ]);
    }
    return { kind: 'resolve', dedupKey, summary: text('summary'), warnings };
  }

  const title = text('title');
  if (!title) {
    throw invalid('validation_failed', 'The alert has no title: send "title" with a line saying what is wrong; every other field is optional.', [
      { field: 'title', message: 'is required' },
    ]);
  }
  if (body.summary !== undefined) warnings.push('Ignored "summary": it is read only with "status": "resolved".');
  const rawDescription = body.description;
  // Structured detail (a tool's JSON payload) is kept as JSON rather than dropped.
  const description = isObject(rawDescription) || Array.isArray(rawDescription) ? JSON.stringify(rawDescription, null, 2) : text('description');
  return {
    kind: 'declare',
    title,
    description,
    service: text('service'),
    severity: readAlertSeverity([body.severity], notes),
    dedupKey,
    changeId: text('change_id'),
    deploymentId: text('deployment_id'),
    warnings,
    notes,
  };
}

/**
 * Alertmanager's webhook_config sends a fixed body that cannot be templated:
 * `{version, groupKey, status, receiver, groupLabels, commonLabels, commonAnnotations,
 * externalURL, alerts: [{status, labels, annotations, startsAt, endsAt, generatorURL}]}`.
 */
function isAlertmanagerBody(body: Body): boolean {
  return typeof body.version === 'string' && typeof body.groupKey === 'string' && Array.isArray(body.alerts);
}

function readAlertmanager(body: Body): AlertRequest {
  const warnings: string[] = [];
  const notes: string[] = [];
  const groupKey = stringOf(body.groupKey);
  const dedupKey = readDedupKey(groupKey, warnings);
  const common = { labels: labelsOf(body.commonLabels), annotations: labelsOf(body.commonAnnotations) };
  const groupLabels = labelsOf(body.groupLabels);
  const alerts = (body.alerts as unknown[]).filter(isObject).map((alert) => ({
    status: stringOf(alert.status) ?? 'firing',
    labels: labelsOf(alert.labels),
    annotations: labelsOf(alert.annotations),
    startsAt: stringOf(alert.startsAt),
    generatorURL: stringOf(alert.generatorURL),
  }));

  if (stringOf(body.status) === 'resolved' && dedupKey) {
    return { kind: 'resolve', dedupKey, summary: 'Alertmanager reports every alert of the group resolved.', warnings };
  }

  const first = alerts[0];
  const firstName = first && (first.annotations.summary ?? first.labels.alertname);
  const title =
    common.annotations.summary ??
    common.labels.alertname ??
    (firstName && (alerts.length > 1 ? `${firstName} and ${alerts.length - 1} more` : firstName)) ??
    groupLabels.alertname ??
    `Alertmanager alert group ${groupKey ?? '(no group key)'}`;

  const severityLabels = common.labels.severity ? [common.labels.severity] : alerts.map((alert) => alert.labels.severity);
  return {
    kind: 'declare',
    title,
    description: describeAlertGroup(body, common, alerts),
    service: common.labels.service ?? groupLabels.service,
    severity: readAlertSeverity(severityLabels, notes),
    dedupKey,
    warnings,
    notes,
  };
}

type Labels = Record<string, string>;

/** The group's annotations and labels, then one line per alert with its own labels and where it came from. */
function describeAlertGroup(
  body: Body,
  common: { labels: Labels; annotations: Labels },
  alerts: Array<{ status: string; labels: Labels; annotations: Labels; startsAt?: string; generatorURL?: string }>,
): string {
  const lines: string[] = [];
  if (common.annotations.description) lines.push(common.annotations.description);
  for (const [name, value] of Object.entries(common.annotations)) {
    if (name !== 'summary' && name !== 'description') lines.push(`${name}: ${value}`);
  }
  const labels = Object.entries(common.labels).map(([name, value]) => `${name}=${value}`);
  if (labels.length > 0) lines.push(`Labels: ${labels.join(', ')}`);
  const firing = alerts.filter((alert) => alert.status !== 'resolved').length;
  lines.push('', `Alerts: ${firing} firing${alerts.length > firing ? `, ${alerts.length - firing} resolved` : ''}`);
  for (const alert of alerts) {
    const name = alert.annotations.summary ?? alert.labels.alertname ?? 'alert';
    const own = Object.entries(alert.labels).filter(([label, value]) => common.labels[label] !== value);
    const ownText = own.length > 0 ? ` (${own.map(([label, value]) => `${label}=${value}`).join(', ')})` : '';
    lines.push(`• [${alert.status}] ${name}${ownText}${alert.startsAt ? ` since ${alert.startsAt}` : ''}`);
    const detail = alert.annotations.description;
    if (detail && detail !== common.annotations.description) lines.push(`  ${detail}`);
    if (alert.generatorURL) lines.push(`  ${alert.generatorURL}`);
  }
  const truncated = typeof body.truncatedAlerts === 'number' ? body.truncatedAlerts : 0;
  if (truncated > 0) lines.push(`…and ${truncated} more alerts that Alertmanager left out (max_alerts).`);
  const externalURL = stringOf(body.externalURL);
  if (externalURL) lines.push('', `Alertmanager: ${externalURL}`);
  return lines.join('\n');
}

/** The most severe of the severities given; one Tandem cannot read leaves the default, with a note. */
function readAlertSeverity(values: unknown[], notes: string[]): Severity | undefined {
  const given = values.filter((value) => value !== undefined && value !== null && value !== '');
  const readable = given.map(readSeverity).filter((severity): severity is Severity => severity !== undefined);
  if (readable.length > 0) return Math.min(...readable) as Severity;
  if (given.length > 0) {
    notes.push(
      `Severity ${shorten(JSON.stringify(given[0]))} is not one Tandem reads (1 to 4, SEV1 to SEV4, critical, high, error, warning or info), so the default severity applies.`,
    );
  }
  return undefined;
}

function readDedupKey(key: string | undefined, warnings: string[]): string | undefined {
  if (!key) return undefined;
  const fitted = fitDedupKey(key);
  if (fitted.shortened) {
    warnings.push(`The dedup_key is over ${maxDedupKeyLength} characters, so Tandem keeps its start and a hash of the whole; repeats still match.`);
  }
  return fitted.key;
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const stringOf = (value: unknown) => (typeof value === 'string' ? withoutNul(value).trim() || undefined : undefined);

/** Alertmanager's label and annotation maps; anything that is not a string value is left out. */
function labelsOf(value: unknown): Labels {
  if (!isObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).flatMap(([name, text]) => {
      const clean = stringOf(text);
      return clean ? [[withoutNul(name), clean]] : [];
    }),
  );
}

const shorten = (text: string) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);
